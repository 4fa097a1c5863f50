// An end user's side of a chat, driven over stdin/stdout by the Python tests, using the
// official Socket.IO JavaScript client (the same package the widget loads from /vendor/).
//
//   node visitor.mjs <base-url> '<auth JSON>'
//   stdin  (one JSON per line): {"op":"emit","id":1,"event":"send","data":{...}}
//                               {"op":"disconnect"} | {"op":"connect"} | {"op":"exit"}
//   stdout (one JSON per line): {"type":"connect"} | {"type":"connect_error","data":{...}}
//                               {"type":"disconnect","reason":"..."}
//                               {"type":"event","event":"message","data":{...}}
//                               {"type":"ack","id":1,"data":{...}}
import { createInterface } from "node:readline";
import { io } from "socket.io-client";

const [baseUrl, authJson] = process.argv.slice(2);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

const socket = io(`${baseUrl}/chat`, {
  auth: JSON.parse(authJson || "{}"),
  transports: ["websocket"],
  reconnectionDelay: 200,
  reconnectionDelayMax: 1000,
  randomizationFactor: 0,
});
socket.on("connect", () => out({ type: "connect", id: socket.id }));
socket.on("connect_error", (err) => out({ type: "connect_error", message: err.message, data: err.data ?? null }));
socket.on("disconnect", (reason) => out({ type: "disconnect", reason }));
socket.onAny((event, data) => out({ type: "event", event, data }));

createInterface({ input: process.stdin }).on("line", (line) => {
  if (!line.trim()) return;
  const cmd = JSON.parse(line);
  if (cmd.op === "emit") {
    socket.timeout(10000).emit(cmd.event, cmd.data, (err, ack) =>
      out({ type: "ack", id: cmd.id, data: err ? { timeout: true } : ack }));
  } else if (cmd.op === "disconnect") {
    socket.disconnect();
  } else if (cmd.op === "connect") {
    socket.connect();
  } else if (cmd.op === "exit") {
    socket.disconnect();
    process.exit(0);
  }
});

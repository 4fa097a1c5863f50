// One Socket.IO connection per page (namespaces are multiplexed on it), shared by the
// Welcome bar and the chat window.
import { io } from "/vendor/socket.io.esm.min.js";

const options = { withCredentials: true, reconnectionDelay: 500, reconnectionDelayMax: 3000 };

export const queueSocket = io("/queue", options);

/** {chat_id: last message id held}: sent on (re)connect so the server sends only what is new. */
export const lastMessageIds = {};

let chatSocket = null;

/** The /chat connection, opened by the chat window only. */
export function chatConnection() {
  chatSocket ??= io("/chat", { ...options, auth: (cb) => cb({ last_message_ids: lastMessageIds }) });
  return chatSocket;
}

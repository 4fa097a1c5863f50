// The SR form on its own page (/sr/<number>).
import { SrForm } from "./sr-form.js";

const root = document.getElementById("sr-form-root");
new SrForm(root, root.dataset.number).load();

// My work: the status filter applies as soon as it changes (the button is for no-JS only).
const filter = document.getElementById("status-filter");
filter?.addEventListener("change", () => filter.form.requestSubmit());

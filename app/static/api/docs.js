// The API's reference page: Swagger UI (shipped with the app) over the OpenAPI document.
// A module of its own: the page's Content-Security-Policy allows no inline script.
const root = document.getElementById("api-docs");

window.SwaggerUIBundle({
  url: root.dataset.specUrl,
  domNode: root,
  deepLinking: true,
  persistAuthorization: false,
  tryItOutEnabled: false,
  defaultModelsExpandDepth: 0,
  docExpansion: "list",
});

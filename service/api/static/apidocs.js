// Starts the API documentation viewer the page loaded (Swagger UI on /docs,
// ReDoc on /redoc) on this service's own OpenAPI document. A file of its own,
// not an inline script, so the pages' Content-Security-Policy can forbid those.

const swagger = document.getElementById("swagger-ui");
const redoc = document.getElementById("redoc");

if (swagger && window.SwaggerUIBundle) {
  window.ui = window.SwaggerUIBundle({
    url: swagger.dataset.openapi,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
} else if (redoc && window.Redoc) {
  window.Redoc.init(redoc.dataset.openapi, {}, redoc);
}

// Starts Swagger UI on /schema. A file rather than an inline script: the page's
// Content-Security-Policy allows scripts from our own origin only.
(function () {
  "use strict";
  const root = document.getElementById("swagger-container");
  const cookie = root.dataset.csrfCookie + "=";

  function csrfToken() {
    const found = document.cookie.split("; ").find((part) => part.startsWith(cookie));
    return found === undefined ? undefined : decodeURIComponent(found.slice(cookie.length));
  }

  window.ui = SwaggerUIBundle({
    url: root.dataset.spec,
    dom_id: "#swagger-container",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    // The API checks the CSRF token on every change, as for the console's own scripts.
    requestInterceptor: (request) => {
      const token = csrfToken();
      if (token !== undefined) request.headers[root.dataset.csrfHeader] = token;
      return request;
    },
  });
})();

// Phones without a PDF viewer (most cheap Android browsers) get the pages as pictures;
// browsers that show PDFs inline get the PDF and no pictures.
(function () {
  "use strict";
  const viewer = document.getElementById("viewer");
  if (!viewer) return;
  const hasPdfViewer = navigator.pdfViewerEnabled === true;
  viewer.classList.add(hasPdfViewer ? "inline-pdf" : "page-images");
})();

// Paperline's document view: the extracted document beside the page it came from, the result's boxes drawn on the
// page. Clicks go both ways in the browser (no round trip): an element (heading, paragraph, table, table cell)
// lights up its region; a region scrolls the document to its element. The server is told what was chosen
// (`selected`), and brings another page when the choice is on one not shown.
//
// The document arrives as HTML the server rendered from its Jinja template with every document text escaped; the
// boxes as numbers. Nothing from a document is turned into markup here: titles go in as text.

export function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "pl-docview";
  const text = document.createElement("div");
  text.className = "pl-doc";
  text.setAttribute("aria-label", "Extracted document");
  const side = document.createElement("div");
  side.className = "pl-page-side";
  const status = document.createElement("div");
  status.className = "pl-page-status";
  const figure = document.createElement("div");
  figure.className = "pl-page-figure";
  const image = document.createElement("img");
  image.className = "pl-page-image";
  image.alt = "";
  const layer = document.createElement("div");
  layer.className = "pl-box-layer";
  figure.append(image, layer);
  side.append(status, figure);
  root.append(text, side);

  const inDocument = (index) => text.querySelector(`[data-el="${index}"]`);
  const boxOf = (index) => layer.querySelector(`[data-el="${index}"]`);

  function choose(index, cell) {
    for (const node of root.querySelectorAll(".pl-cell-chosen")) node.classList.remove("pl-cell-chosen");
    if (cell) cell.classList.add("pl-cell-chosen");
    model.selected = index;
    light();
  }

  function light() {
    const chosen = String(model.selected);
    const marked = new Set(model.marked.map(String));
    for (const node of root.querySelectorAll("[data-el]")) {
      node.classList.toggle("pl-chosen", node.dataset.el === chosen);
      node.classList.toggle("pl-marked", marked.has(node.dataset.el));
    }
  }

  function drawDocument() {
    text.innerHTML = model.content; // rendered and escaped by the server's template
    for (const node of text.querySelectorAll("[data-el]")) {
      node.addEventListener("click", (event) => {
        event.stopPropagation();
        const cell = event.target.closest("td, th");
        choose(Number(node.dataset.el), cell && node.contains(cell) ? cell : null);
        const box = boxOf(node.dataset.el);
        if (box) box.scrollIntoView({ block: "nearest", inline: "nearest" });
      });
    }
    light();
  }

  function drawPage() {
    if (model.image) image.src = model.image;
    else image.removeAttribute("src");
    image.alt = model.image_label;
    figure.classList.toggle("pl-page-missing", !model.image);
    status.textContent = model.status;
    layer.replaceChildren(
      ...model.boxes.map((box) => {
        const node = document.createElement("div");
        node.className = `pl-box pl-box-${box.kind}${box.low ? " pl-box-low" : ""}`;
        node.dataset.el = String(box.el);
        node.title = box.label;
        node.style.left = `${box.left}%`;
        node.style.top = `${box.top}%`;
        node.style.width = `${box.width}%`;
        node.style.height = `${box.height}%`;
        node.addEventListener("click", (event) => {
          event.stopPropagation();
          choose(box.el, null);
          const found = inDocument(box.el);
          if (found) found.scrollIntoView({ block: "center" });
        });
        return node;
      }),
    );
    light();
  }

  function reveal() {
    // "Open at page": the view comes on screen, the document at the element asked for (or the page's first)
    root.scrollIntoView({ block: "start" });
    const target = inDocument(model.reveal_el) || text.querySelector(`[data-page="${model.page}"]`);
    if (target) target.scrollIntoView({ block: "center" });
    const box = boxOf(model.reveal_el);
    if (box) box.scrollIntoView({ block: "nearest" });
  }

  model.on("content", drawDocument);
  model.on(["image", "boxes", "status", "image_label"], drawPage);
  model.on(["selected", "marked"], light);
  model.on("reveal", reveal);
  drawDocument();
  drawPage();
  if (model.reveal) setTimeout(reveal, 0);
  return root;
}

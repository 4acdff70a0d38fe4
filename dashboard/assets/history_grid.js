// Paperline's History table: one page of rows the server chose (filtered, sorted, cut to a page), the filters, the
// sort and the page as plain elements of one component (a table of Panel widgets and Tabulator columns cost the
// page some fifty models). Every value goes in as text: file names and errors come from users and documents.

export function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "pl-history-grid";
  const bar = document.createElement("div");
  bar.className = "pl-history-bar";
  const statusLabel = document.createElement("label");
  statusLabel.textContent = "Status ";
  const status = document.createElement("select");
  status.className = "pl-history-status";
  statusLabel.append(status);
  const searchLabel = document.createElement("label");
  searchLabel.textContent = "Search by name ";
  const search = document.createElement("input");
  search.type = "search";
  search.placeholder = "report";
  search.className = "pl-history-search";
  searchLabel.append(search);
  bar.append(statusLabel, searchLabel);
  const wrap = document.createElement("div");
  wrap.className = "pl-history-wrap";
  const table = document.createElement("table");
  table.className = "pl-history-table";
  const head = document.createElement("thead");
  const body = document.createElement("tbody");
  table.append(head, body);
  wrap.append(table);
  const pager = document.createElement("div");
  pager.className = "pl-history-pager";
  const previous = document.createElement("button");
  previous.textContent = "◀";
  previous.title = "Previous page";
  const where = document.createElement("span");
  const next = document.createElement("button");
  next.textContent = "▶";
  next.title = "Next page";
  pager.append(previous, where, next);
  root.append(bar, wrap, pager);

  status.addEventListener("change", () => {
    model.status = status.value;
  });
  let typing = null;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      model.search = search.value;
    }, 250);
  });
  previous.addEventListener("click", () => {
    if (model.page > 1) model.page = model.page - 1;
  });
  next.addEventListener("click", () => {
    if (model.page < model.pages) model.page = model.page + 1;
  });

  function drawFilters() {
    status.replaceChildren(
      ...model.statuses.map((value) => {
        const option = document.createElement("option");
        option.value = value;
        option.textContent = value;
        return option;
      }),
    );
    status.value = model.status;
    if (document.activeElement !== search) search.value = model.search;
  }

  function drawHead() {
    const row = document.createElement("tr");
    for (const [field, title, align] of model.columns) {
      const cell = document.createElement("th");
      cell.dataset.field = field;
      cell.style.textAlign = align;
      const arrow = model.sort === field ? (model.descending ? " ▼" : " ▲") : "";
      cell.textContent = title + arrow;
      cell.title = "Sort by " + title;
      cell.addEventListener("click", () => {
        if (model.sort === field) model.descending = !model.descending;
        else {
          model.sort = field;
          model.descending = true;
        }
      });
      row.append(cell);
    }
    head.replaceChildren(row);
  }

  function drawRows() {
    body.replaceChildren(
      ...model.rows.map((values) => {
        const row = document.createElement("tr");
        row.className = "pl-history-row";
        const id = values[0];
        row.dataset.job = id;
        model.columns.forEach(([field, _title, align], index) => {
          const cell = document.createElement("td");
          cell.dataset.field = field;
          cell.style.textAlign = align;
          cell.textContent = values[index + 1];
          row.append(cell);
        });
        row.addEventListener("click", () => {
          model.clicked = id;
          model.clicks = model.clicks + 1;
        });
        return row;
      }),
    );
    const first = model.total ? (model.page - 1) * model.page_size + 1 : 0;
    const last = Math.min(model.total, model.page * model.page_size);
    where.textContent = model.total ? ` ${first}-${last} of ${model.total} ` : " no jobs ";
    previous.disabled = model.page <= 1;
    next.disabled = model.page >= model.pages;
  }

  model.on(["statuses", "status", "search"], drawFilters);
  model.on(["columns", "sort", "descending"], drawHead);
  model.on(["rows", "page", "pages", "total"], drawRows);
  drawFilters();
  drawHead();
  drawRows();
  return root;
}

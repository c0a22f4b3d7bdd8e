"use strict";
// The class dashboard's only script (its hash is in the page's Content-Security-Policy): it
// sorts each students table by the column clicked and filters it by the text typed. It reads
// the page's own text and moves or hides rows; it never builds HTML.
for (const section of document.querySelectorAll("section.assignment")) {
  const table = section.querySelector("table.students");
  const filter = section.querySelector("input.filter");
  const shown = section.querySelector(".shown");
  const body = table.tBodies[0];
  const rows = Array.from(body.rows);
  const texts = rows.map((row) => row.textContent.toLowerCase());
  const heads = Array.from(table.tHead.rows[0].cells);
  const key = (row, column, numeric) => {
    const text = row.cells[column].textContent.trim();
    if (!numeric) return text.toLowerCase();
    const number = parseFloat(text);
    return Number.isNaN(number) ? -Infinity : number;
  };
  heads.forEach((head, column) => {
    const numeric = head.dataset.type === "number";
    const sort = () => {
      const current = head.getAttribute("aria-sort");
      // numbers first sort highest first, text A to Z; a second click turns it round
      const up = current ? current === "descending" : !numeric;
      const keyed = rows.map((row, index) => [key(row, column, numeric), index, row]);
      keyed.sort((a, b) => {
        const order = a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
        return (up ? order : -order) || a[1] - b[1];
      });
      for (const other of heads) other.removeAttribute("aria-sort");
      head.setAttribute("aria-sort", up ? "ascending" : "descending");
      body.append(...keyed.map((entry) => entry[2]));
    };
    head.tabIndex = 0;
    head.title = (head.title ? head.title + ". " : "") + "Click to sort";
    head.addEventListener("click", sort);
    head.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        sort();
      }
    });
  });
  filter.hidden = false;
  filter.addEventListener("input", () => {
    const query = filter.value.trim().toLowerCase();
    let count = 0;
    rows.forEach((row, index) => {
      row.hidden = query !== "" && !texts[index].includes(query);
      count += row.hidden ? 0 : 1;
    });
    shown.textContent = query ? `${count} of ${rows.length} students` : `${rows.length} students`;
  });
}

// The review page's keys: 1..9 toggle a rubric item, s saves, n goes to the next ungraded
// answer, p to the previous one; in the comment box keys type (Esc leaves it). No student
// text is ever read as markup here: the page only counts checked items.
"use strict";
(function () {
  const form = document.getElementById("review");
  if (!form) return;
  const boxes = Array.from(form.querySelectorAll('input[type="checkbox"][name="item"]'));
  const points = document.getElementById("points");
  function total() {
    let sum = 0;
    for (const b of boxes) if (b.checked) sum += Number(b.dataset.points);
    points.textContent = String(Math.round(sum * 1e4) / 1e4);
  }
  for (const b of boxes) b.addEventListener("change", total);
  total();
  function go(id) {
    const link = document.getElementById(id);
    if (link) window.location.href = link.href;
  }
  document.addEventListener("keydown", function (e) {
    const typing = e.target instanceof HTMLTextAreaElement || e.target instanceof HTMLInputElement && e.target.type !== "checkbox";
    if (typing) {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (/^[1-9]$/.test(e.key)) {
      const box = boxes[Number(e.key) - 1];
      if (box) { box.checked = !box.checked; total(); }
      e.preventDefault();
    } else if (e.key === "s") {
      e.preventDefault();
      form.requestSubmit();
    } else if (e.key === "n") {
      go("next-ungraded");
    } else if (e.key === "p") {
      go("previous");
    }
  });
})();

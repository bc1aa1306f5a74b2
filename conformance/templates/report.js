// Filters for the report: plain DOM, no library, works from a file:// URL.
// Every filterable element carries data-filter (its group), data-part, data-verdict,
// data-method and data-clauses (space-separated; the method "any" matches every method).
// The text filter reads the element's own text, so the page carries each text once.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) { return; }
  var items = document.querySelectorAll("[data-filter]");
  var texts = [];
  for (var k = 0; k < items.length; k++) { texts.push(items[k].textContent.toLowerCase()); }
  // "L-L2" means that clause, not every text that mentions it (L-C12 cites L-L2).
  var clauseId = /^[lk]-[a-z]+[0-9]+$/;

  function matches(item, itemText, part, text, verdict, method) {
    var d = item.dataset;
    if (part && d.part.split(" ").indexOf(part) < 0) { return false; }
    if (verdict && d.verdict !== verdict) { return false; }
    if (method) {
      var methods = d.method.split(" ");
      if (methods.indexOf(method) < 0 && methods.indexOf("any") < 0) { return false; }
    }
    if (!text) { return true; }
    if (clauseId.test(text)) { return d.clauses.toLowerCase().split(" ").indexOf(text) >= 0; }
    return itemText.indexOf(text) >= 0;
  }

  function apply() {
    var part = form.elements.part.value;
    var text = form.elements.text.value.trim().toLowerCase();
    var verdict = form.elements.verdict.value;
    var method = form.elements.method.value;
    var shown = {};
    for (var i = 0; i < items.length; i++) {
      var ok = matches(items[i], texts[i], part, text, verdict, method);
      items[i].hidden = !ok;
      var group = items[i].dataset.filter;
      shown[group] = (shown[group] || 0) + (ok ? 1 : 0);
    }
    var counters = document.querySelectorAll("[data-count]");
    for (var j = 0; j < counters.length; j++) {
      counters[j].textContent = String(shown[counters[j].dataset.count] || 0);
    }
  }

  // A link to a failure opens its drill-down (a closed <details> would hide the target).
  function openTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    if (target && target.tagName === "DETAILS") {
      target.hidden = false;
      target.open = true;
      target.scrollIntoView();
    }
  }

  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("reset", function () { window.setTimeout(apply, 0); });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  window.addEventListener("hashchange", openTarget);
  apply();
  openTarget();
})();

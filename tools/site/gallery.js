// The index page's filter: property chips (a card must have every selected one), one family,
// and words of the search box (each must occur in the card's data-search). The state lives in
// the URL's hash (#property=a,b&family=f&q=text), so a recipe page can link to a filtered index.
(function () {
  const cards = Array.from(document.querySelectorAll(".card"));
  const chips = Array.from(document.querySelectorAll(".filters .chip"));
  const search = document.getElementById("search");
  const selected = (filter) =>
    chips.filter((c) => c.dataset.filter === filter && c.getAttribute("aria-pressed") === "true").map((c) => c.dataset.value);

  function update() {
    const properties = selected("property");
    const family = selected("family")[0];
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const card of cards) {
      const has = card.dataset.properties.split(" ");
      const match =
        properties.every((p) => has.includes(p)) &&
        (!family || card.dataset.family === family) &&
        words.every((w) => card.dataset.search.includes(w));
      card.hidden = !match;
      shown += match;
    }
    document.getElementById("count").textContent = `${shown} of ${cards.length} recipes`;
    document.getElementById("empty").hidden = shown > 0;
    const state = [["property", properties.join(",")], ["family", family], ["q", search.value.trim()]]
      .filter(([, value]) => value)
      .map(([key, value]) => `${key}=${encodeURIComponent(value).replace(/%2C/g, ",")}`);
    history.replaceState(null, "", state.length ? `#${state.join("&")}` : location.pathname);
  }

  function restore() {
    const state = new URLSearchParams(location.hash.slice(1));
    const wanted = { property: (state.get("property") || "").split(","), family: [state.get("family")] };
    for (const chip of chips) chip.setAttribute("aria-pressed", String(wanted[chip.dataset.filter].includes(chip.dataset.value)));
    search.value = state.get("q") || "";
    update();
  }

  function clear() {
    history.replaceState(null, "", location.pathname);
    restore();
  }

  for (const chip of chips) {
    chip.addEventListener("click", () => {
      const on = chip.getAttribute("aria-pressed") !== "true";
      if (chip.dataset.filter === "family") {
        for (const other of chips) if (other.dataset.filter === "family") other.setAttribute("aria-pressed", "false");
      }
      chip.setAttribute("aria-pressed", String(on));
      update();
    });
  }
  search.addEventListener("input", update);
  document.getElementById("clear").addEventListener("click", clear);
  document.getElementById("clear-empty").addEventListener("click", clear);
  window.addEventListener("hashchange", restore);
  document.querySelector(".filters").hidden = false;
  restore();
})();

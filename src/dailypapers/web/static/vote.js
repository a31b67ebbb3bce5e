// Upvote, Save and Not interested in place; without JavaScript the same forms post and the
// page reloads.
function post(form, body) {
  return fetch(form.action, {
    method: "POST",
    headers: { "Accept": "application/json", "X-CSRF-Token": form.elements.csrf_token.value },
    body,
    credentials: "same-origin",
  });
}

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.classList.contains("vote")) return;
  event.preventDefault();
  const response = await post(form);
  // Signed out: the log-in page that upvotes the paper once signed in.
  if (response.status === 401) { window.location = response.headers.get("X-Login") || "/login"; return; }
  if (!response.ok) return;
  const result = await response.json();
  form.querySelector(".count").textContent = result.upvotes;
  form.classList.toggle("voted", result.voted);
  const button = form.querySelector("button");  // says what pressing it does now (_vote.html)
  button.setAttribute("aria-pressed", String(result.voted));
  const title = form.dataset.title;
  button.setAttribute("aria-label", result.voted ? `Remove your upvote from ${title}` : `Upvote ${title}`);
});

// Save / Not interested in place (_library_actions.html): the same forms, answered as JSON.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.classList.contains("library-action")) return;
  event.preventDefault();
  const response = await post(form, new FormData(form));
  if (response.status === 401) { window.location = "/login"; return; }
  if (!response.ok) return;
  const result = await response.json();
  if (result.not_interested) {  // it leaves the list, as it will on the next visit
    const entry = form.closest("li.entry");
    if (entry) { entry.remove(); return; }
  }
  const button = form.querySelector("button");
  if (form.classList.contains("save")) {
    const saved = result.saved.length > 0;
    form.action = form.dataset.save + (saved ? "?action=unsave" : "");
    button.textContent = saved ? `Saved in ${result.saved.join(", ")} · remove` : "Save";
    button.setAttribute("aria-pressed", String(saved));
  } else {
    button.textContent = result.not_interested ? "Not interested (marked)" : "Not interested";
  }
});

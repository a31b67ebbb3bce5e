// Upvote in place; without JavaScript the same form posts and the page reloads.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!form.classList.contains("vote")) return;
  event.preventDefault();
  const response = await fetch(form.action, {
    method: "POST",
    headers: { "Accept": "application/json", "X-CSRF-Token": form.elements.csrf_token.value },
    credentials: "same-origin",
  });
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

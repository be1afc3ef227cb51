// The dashboard's one status poller: GET a JSON status URL every `everyMs`, hand the answer to `update`, and go
// on while it returns true.  A failed request (the server restarting) is tried again at the next tick.
// `wake()` polls at once and starts the loop again if it had stopped (a new upload on the page).
window.pollStatus = function (url, everyMs, update) {
  let timer = null;
  let running = false;
  async function tick() {
    timer = null;
    let more = true;
    try {
      const response = await fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"});
      if (response.ok) more = update(await response.json()) !== false;
    } catch (e) { /* keep polling */ }
    running = more;
    if (more) timer = setTimeout(tick, everyMs);
  }
  function start(delayMs) {
    running = true;
    if (timer) clearTimeout(timer);
    timer = setTimeout(tick, delayMs);
  }
  return {start: () => start(everyMs), wake: () => start(0), get running() { return running; }};
};

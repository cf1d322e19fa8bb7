// The assistant page's streamed answer (served by Hopia: the pages' CSP allows no inline
// script and no other origin). The question form is posted to its data-flux address; the
// answer's text is shown as the model writes it, read from server-sent events in the response
// body; at the end the text is replaced by the checked answer, whose [n] markers and sources
// become links to the cited passages. Without this script, or when the stream cannot start
// (form expired, session over, a field to correct), the form is posted the ordinary way and
// the page comes back whole with the answer or the message.
"use strict";

(function () {
  const form = document.querySelector("form[data-flux]");
  const out = document.getElementById("reponse-flux");
  if (!form || !out || !window.fetch || !window.TextDecoder || !window.URLSearchParams) {
    return;
  }

  function element(tag, text, attributes) {
    const node = document.createElement(tag);
    if (text) node.textContent = text;
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
    return node;
  }

  // The answer's text with each [n] a link to the passage it cites.
  function linkedText(target, text, citations) {
    const byNumber = new Map(citations.map((c) => [String(c.n), c]));
    target.textContent = "";
    let at = 0;
    for (const match of text.matchAll(/\[(\d+)\]/g)) {
      const cited = byNumber.get(match[1]);
      if (!cited) continue;
      target.append(text.slice(at, match.index));
      target.append(element("a", match[0], { href: cited.href, title: cited.label }));
      at = match.index + match[0].length;
    }
    target.append(text.slice(at));
  }

  function sources(data) {
    const list = element("ol", "", { class: "sources" });
    for (const c of data.citations) {
      const item = element("li", "", { value: String(c.n) });
      item.append(element("a", c.label, { href: c.href }), " ");
      item.append(element("small", `(caractères ${c.start}–${c.end})`));
      if (c.passage) item.append(element("blockquote", c.passage, { class: "texte" }));
      list.append(item);
    }
    return list;
  }

  function finish(view, data) {
    view.status.remove();
    if (!data.generated) {
      const notice = data.relevant ? out.dataset.sansModele : out.dataset.sansPassage;
      view.text.before(element("p", notice, { class: "avertissement" }));
      if (data.relevant) view.text.remove();
      else view.text.textContent = data.text;
    } else {
      linkedText(view.text, data.text, data.citations);
      const by = element("p", "", {});
      by.append(element("small", `Généré par ${data.model}.`));
      out.append(by);
    }
    if (data.citations.length) {
      out.append(element("h3", "Sources"), sources(data));
    }
    const kept = element("p", "", {});
    kept.append(element("a", "Cette réponse dans mon historique", { href: data.history }));
    out.append(kept);
  }

  function fallback() {
    out.hidden = true;
    form.submit(); // the ordinary post: the page comes back whole (no submit event again)
  }

  async function ask(event) {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    const earlier = document.getElementById("reponse-serveur");
    if (earlier) earlier.remove();
    out.textContent = "";
    out.hidden = false;
    out.setAttribute("aria-busy", "true"); // read once complete, not piece by piece
    const view = {
      status: element("p", "Réponse en cours…", { class: "en-cours", role: "status" }),
      text: element("div", "", { class: "texte", id: "texte-flux" }),
    };
    out.append(element("h2", "Réponse", { id: "reponse" }), view.status, view.text);
    button.disabled = true;
    try {
      const response = await fetch(form.dataset.flux, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { Accept: "text/event-stream" },
        credentials: "same-origin",
      });
      const type = response.headers.get("content-type") || "";
      if (!response.ok || !type.startsWith("text/event-stream") || !response.body) {
        fallback();
        return;
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          for (const line of block.split("\n")) {
            if (!line.startsWith("data: ")) continue;
            const data = JSON.parse(line.slice(6));
            if (data.type === "piece") view.text.append(data.text);
            else if (data.type === "end") finish(view, data);
            else if (data.type === "error") {
              view.status.remove();
              out.append(element("p", data.message, { class: "erreur", role: "alert" }));
            }
          }
        }
      }
    } catch (error) {
      fallback();
      return;
    } finally {
      button.disabled = false;
      out.setAttribute("aria-busy", "false");
    }
  }

  form.addEventListener("submit", ask);
})();

// The dictation pages (/dictee), served by Hopia: the pages' CSP allows no inline script.
//
// Record page: MediaRecorder records the microphone in one-second chunks; each chunk is sent
// as it comes to /api/v1/dictations/<id>/chunks with its number (a chunk whose answer was lost
// is sent again: the server acknowledges it without storing it twice), and the partial
// transcript of what was received is asked and shown while the clinician speaks. "Terminer"
// stops the recorder, waits for the last chunks, then queues the transcription and opens the
// draft's page, which follows the job. Without MediaRecorder or a microphone, the section stays
// hidden and the upload form (no script needed) is the way.
//
// Review page: a fact's button highlights its words in the transcript and plays its seconds
// of audio (currentTime, paused at the fact's end).
"use strict";

(function () {
  function wait(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  async function problemOf(answer) {
    try {
      const body = await answer.json();
      return body.message || `erreur ${answer.status}`;
    } catch (e) {
      return `erreur ${answer.status}`;
    }
  }

  // -- review: a fact's words and audio ------------------------------------------------------
  const audio = document.getElementById("audio-dictee");
  let stopAt = null;
  if (audio) {
    audio.addEventListener("timeupdate", () => {
      if (stopAt !== null && audio.currentTime >= stopAt) {
        audio.pause();
        stopAt = null;
      }
    });
  }
  for (const button of document.querySelectorAll("button.ecouter")) {
    button.addEventListener("click", () => {
      for (const m of document.querySelectorAll(".transcription mark.actif")) {
        m.classList.remove("actif");
      }
      const words = document.getElementById(`mots-${button.dataset.fait}`);
      if (words) {
        words.classList.add("actif");
        words.scrollIntoView({ block: "nearest" });
      }
      if (!audio || button.dataset.debut === undefined) return;
      const start = parseFloat(button.dataset.debut);
      const end = parseFloat(button.dataset.fin);
      stopAt = Number.isFinite(end) ? end + 0.25 : null;
      audio.currentTime = Math.max(0, start - 0.25);
      audio.play().catch(() => {});
    });
  }

  // -- record: chunks, partial transcript, finish --------------------------------------------
  const box = document.getElementById("enregistreur");
  if (!box || !window.fetch || !window.FormData) return;
  const supported = window.MediaRecorder && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
  if (!supported) return; // the upload form remains
  box.hidden = false;
  const api = box.dataset.api;
  const startButton = box.querySelector("[data-bouton=demarrer]");
  const stopButton = box.querySelector("[data-bouton=arreter]");
  const state = document.getElementById("etat-enregistrement");
  const partialOut = document.getElementById("transcription-partielle");
  const already = parseInt(box.dataset.recus || "0", 10);
  const queue = [];
  let seq = 0;
  let sending = false;
  let stopped = false;
  let finishing = false;
  let partialBusy = false;
  let partialAgain = false;
  let recorder = null;

  function say(text) {
    state.textContent = text;
  }

  if (already > 0) {
    // A recording was interrupted (connection lost, page closed): what was received is kept;
    // a new recording would not continue the same audio stream, so the way is to finish.
    startButton.disabled = true;
    stopButton.disabled = false;
    say(`Un enregistrement interrompu a été conservé (${already} morceau(x) reçu(s)) : « Terminer » le transcrit.`);
    stopped = true;
  }

  async function refreshPartial() {
    if (partialBusy) {
      partialAgain = true;
      return;
    }
    partialBusy = true;
    try {
      const answer = await fetch(`${api}/partial`, { credentials: "same-origin" });
      if (answer.ok) {
        const body = await answer.json();
        partialOut.textContent = body.text || "…";
      } else {
        partialOut.textContent = `Transcription provisoire indisponible : ${await problemOf(answer)}`;
      }
    } catch (e) {
      // the connection: the chunks' own retries say it
    }
    partialBusy = false;
    if (partialAgain && !finishing) {
      partialAgain = false;
      refreshPartial();
    }
  }

  async function pump() {
    if (sending) return;
    sending = true;
    while (queue.length) {
      const item = queue[0];
      const body = new FormData();
      body.append("seq", String(item.seq));
      body.append("chunk", item.blob, `morceau-${item.seq}`);
      let answer = null;
      try {
        answer = await fetch(`${api}/chunks`, { method: "POST", body, credentials: "same-origin" });
      } catch (e) {
        answer = null;
      }
      if (answer && answer.ok) {
        queue.shift();
        box.dataset.envoyes = String(item.seq + 1);
        if (!stopped) say(`Enregistrement… ${item.seq + 1} s reçues`);
        refreshPartial();
        continue;
      }
      if (answer && answer.status >= 400 && answer.status < 500 && ![408, 429].includes(answer.status)) {
        say(`Enregistrement refusé : ${await problemOf(answer)}`);
        queue.length = 0;
        if (recorder && recorder.state !== "inactive") recorder.stop();
        break;
      }
      say("Connexion perdue : nouvel essai dans 2 s (rien n'est perdu)…");
      await wait(2000);
    }
    sending = false;
    if (stopped && !queue.length) finish();
  }

  async function finish() {
    if (finishing) return;
    finishing = true;
    stopButton.disabled = true;
    say("Envoi terminé : transcription demandée…");
    while (true) {
      let answer = null;
      try {
        answer = await fetch(`${api}/finish`, { method: "POST", credentials: "same-origin" });
      } catch (e) {
        answer = null;
      }
      if (answer && answer.ok) {
        window.location.assign(`/dictee/${box.dataset.brouillon}`);
        return;
      }
      if (answer) {
        say(`Transcription impossible : ${await problemOf(answer)}`);
        finishing = false;
        return;
      }
      say("Connexion perdue : nouvel essai dans 2 s…");
      await wait(2000);
    }
  }

  startButton.addEventListener("click", async () => {
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) {
      say("Micro inaccessible : autorisez-le, ou déposez un fichier audio ci-dessous.");
      return;
    }
    const types = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/mp4"];
    const type = types.find((t) => MediaRecorder.isTypeSupported(t));
    recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    recorder.addEventListener("dataavailable", (event) => {
      if (event.data && event.data.size) {
        queue.push({ seq: seq, blob: event.data });
        seq += 1;
        pump();
      }
    });
    recorder.addEventListener("stop", () => {
      for (const track of stream.getTracks()) track.stop();
      stopped = true;
      box.classList.remove("actif");
      say("Enregistrement arrêté : envoi des derniers morceaux…");
      pump();
    });
    recorder.start(1000);
    box.classList.add("actif");
    startButton.disabled = true;
    stopButton.disabled = false;
    say("Enregistrement…");
  });

  stopButton.addEventListener("click", () => {
    if (recorder && recorder.state !== "inactive") {
      recorder.stop();
    } else if (stopped) {
      finish();
    }
  });
})();

// The questionnaire page: consent, one question per screen, exactly two picks, resumable.
// All state lives on the server (GET /api/state says what to show), so a reload resumes at the
// next unanswered question. The page knows image positions only; it never learns which are real.
"use strict";
(function () {
  var PICKS = 2;
  var sections = ["loading", "consent", "declined", "question", "done", "failure"];
  var current = null;   // the question on screen
  var busy = false;     // a request is in flight (no double submission)

  function $(id) { return document.getElementById(id); }

  function show(name) {
    sections.forEach(function (s) { $(s).hidden = s !== name; });
  }

  function fail(text) {
    busy = false;
    $("failure-text").textContent = text;
    show("failure");
  }

  function request(method, url, body) {
    var init = { method: method, credentials: "same-origin", headers: {} };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        return { status: r.status, data: data };
      });
    });
  }

  // note: a line to show under the question that comes next (e.g. why the page moved on)
  function load(note) {
    busy = true;
    request("GET", "/api/state").then(function (r) {
      busy = false;
      if (r.status !== 200) { fail(r.data.error || "The server answered " + r.status + "."); return; }
      render(r.data);
      if (note && !$("question").hidden) $("message").textContent = note;
    }).catch(function () { fail("The server cannot be reached."); });
  }

  function render(state) {
    current = null;
    if (!state.consented) {
      $("n-questions").textContent = String(state.total);
      $("n-minutes").textContent = String(Math.max(1, Math.round(state.total * 0.4)));
      $("researcher").textContent = state.researcher ? " It is run by " + state.researcher + "." : "";
      show("consent");
      return;
    }
    if (state.done) {
      $("done-total").textContent = String(state.total);
      show("done");
      return;
    }
    renderQuestion(state.question, state.answered, state.total);
  }

  function image(src, alt, size) {
    var img = document.createElement("img");
    img.src = src;
    img.alt = alt;
    img.width = size[0];
    img.height = size[1];
    img.draggable = false;
    return img;
  }

  function fillStrip(id, urls, size, alt) {
    var strip = $(id);
    strip.replaceChildren();
    urls.forEach(function (u, i) { strip.appendChild(image(u, alt + " " + (i + 1), size)); });
  }

  function renderQuestion(q, answered, total) {
    current = q;
    $("q-number").textContent = String(q.number);
    $("q-total").textContent = String(total);
    $("q-progress").max = total;
    $("q-progress").value = answered;
    $("answer-form").dataset.question = q.id;
    fillStrip("examples-real", q.examples_real, q.size, "Real example");
    fillStrip("examples-generated", q.examples_generated, q.size, "Generated example");
    $("examples").hidden = q.examples_real.length + q.examples_generated.length === 0;
    var choices = $("choices");
    choices.replaceChildren();
    q.images.forEach(function (url, pos) {
      var label = document.createElement("label");
      label.className = "choice";
      label.id = "choice-" + (pos + 1);
      var box = document.createElement("input");
      box.type = "checkbox";
      box.name = "pick";
      box.value = String(pos);
      box.addEventListener("change", function () { onToggle(box); });
      label.appendChild(box);
      label.appendChild(image(url, "Image " + (pos + 1), q.size));
      var num = document.createElement("span");
      num.className = "num";
      var mark = document.createElement("span");
      mark.className = "box";
      mark.setAttribute("aria-hidden", "true");
      num.appendChild(mark);
      num.appendChild(document.createTextNode(String(pos + 1)));
      label.appendChild(num);
      choices.appendChild(label);
    });
    $("message").textContent = "";
    update();
    show("question");
    $("q-title").focus();
  }

  function boxes() { return Array.prototype.slice.call(document.querySelectorAll("#choices input")); }
  function picked() { return boxes().filter(function (b) { return b.checked; }); }

  // A third pick is refused: the box is unticked again and the participant is told why.
  function onToggle(box) {
    if (box.checked && picked().length > PICKS) {
      box.checked = false;
      $("message").textContent = "Choose exactly two images: unselect one first.";
    } else {
      $("message").textContent = "";
    }
    update();
  }

  function update() {
    boxes().forEach(function (b) { b.parentNode.classList.toggle("picked", b.checked); });
    var n = picked().length;
    $("submit").disabled = busy || n !== PICKS;
    $("submit").textContent = n === PICKS ? "Submit answer" : "Choose " + (PICKS - n) + " more";
  }

  function submit() {
    if (!current || busy) return;
    var picks = picked().map(function (b) { return Number(b.value); });
    if (picks.length !== PICKS) {
      $("message").textContent = "Choose exactly two images.";
      return;
    }
    busy = true;
    update();
    request("POST", "/api/answer", { question: current.id, picks: picks }).then(function (r) {
      busy = false;
      if (r.status === 200) { render(r.data); return; }
      if (r.status === 409) {  // answered in another tab (or a stale page): say so, then show what is next
        load("This question was already answered in another tab; here is the next one.");
        return;
      }
      if (r.status === 403) { load(); return; }  // consent lost: the consent page again
      $("message").textContent = r.data.error || "The answer was not accepted (" + r.status + ").";
      update();
    }).catch(function () {
      busy = false;
      $("message").textContent = "The server cannot be reached; try again.";
      update();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("consent-yes").addEventListener("click", function () {
      if (busy) return;
      busy = true;
      request("POST", "/api/consent", { consent: true }).then(function (r) {
        busy = false;
        if (r.status !== 200) { fail(r.data.error || "The server answered " + r.status + "."); return; }
        render(r.data);
      }).catch(function () { fail("The server cannot be reached."); });
    });
    $("consent-no").addEventListener("click", function () { show("declined"); });
    $("retry").addEventListener("click", function () { load(); });
    $("answer-form").addEventListener("submit", function (e) { e.preventDefault(); submit(); });
    document.addEventListener("keydown", function (e) {
      if ($("question").hidden || e.altKey || e.ctrlKey || e.metaKey) return;
      var k = "1234".indexOf(e.key);
      if (k >= 0 && k < boxes().length) {
        var box = boxes()[k];
        box.checked = !box.checked;
        onToggle(box);
        box.focus();
        e.preventDefault();
      } else if (e.key === "Enter" && e.target.tagName !== "BUTTON") {
        e.preventDefault();
        submit();
      }
    });
    load();
  });
})();

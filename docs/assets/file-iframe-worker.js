// Search from file://: browsers refuse a Web Worker from a file:// page, so on file:// this stands in for `Worker`
// with a hidden iframe that runs the worker script and relays its messages. Written for this site (the theme would
// otherwise fetch a shim from a CDN); on http(s) it does nothing and the real Worker runs.
(function () {
  "use strict";
  if (location.protocol !== "file:") return;

  class FileWorker extends EventTarget {
    constructor(url) {
      super();
      this.onmessage = null;
      this.onerror = null;
      this._queue = [];
      this._ready = false;
      const src = new URL(url, location.href).href.replace(/"/g, "%22");
      const frame = document.createElement("iframe");
      frame.hidden = true;
      frame.tabIndex = -1;
      frame.title = "search worker";
      frame.setAttribute("aria-hidden", "true");
      this._frame = frame;
      window.addEventListener("message", (event) => {
        const data = event.data;
        if (event.source !== frame.contentWindow || !data || data.almanacWorker !== true) return;
        if (data.ready) {
          this._ready = true;
          this._queue.splice(0).forEach((message) => this._send(message));
          return;
        }
        const relayed = new MessageEvent("message", { data: data.data });
        if (typeof this.onmessage === "function") this.onmessage(relayed);
        this.dispatchEvent(relayed);
      });
      // In the frame, the worker's one-argument postMessage(result) goes to this page; the two-argument form is
      // how this page's messages arrive there.
      frame.srcdoc = "<!DOCTYPE html><script>(function(){var own=window.postMessage.bind(window);" +
        "window.postMessage=function(m,o){if(arguments.length>1){return own(m,o)}" +
        "parent.postMessage({almanacWorker:true,data:m},'*')}})()<\/script>" +
        '<script src="' + src + '" onload="parent.postMessage({almanacWorker:true,ready:true},\'*\')"><\/script>';
      (document.body || document.documentElement).appendChild(frame);
    }

    _send(message) {
      this._frame.contentWindow.postMessage(message, "*");
    }

    postMessage(message) {
      if (this._ready) this._send(message);
      else this._queue.push(message);
    }

    terminate() {
      this._frame.remove();
    }
  }

  window.Worker = FileWorker;
})();

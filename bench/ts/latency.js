// make bench-latency: Node peers against a server that answers after a delay.
//
// Usage: node bench/ts/latency.js webapi|fetch BASE_URL N CONCURRENCY
//   webapi  the official TypeScript client @superoffice/webapi (PersonAgent
//           sendCustomerCentrePasswordEmailAsync, axios over Node's keep-alive global agent)
//   fetch   plain fetch (undici, keep-alive), the fallback when the client cannot be used
// A pool of CONCURRENCY promises, each sending until N sends have started. BASE_URL is
// the tenant URL (without /api/...). Prints "seconds S" (the sends only) and exits non-zero
// when any send failed.
"use strict";

const TICKET = "7T:dGVzdA==";
const APP_TOKEN = "bench-app-token-0123456789abcdef";
const ENDPOINT = "/api/v1/Agents/Person/SendCustomerCentrePasswordEmail";
const PERSON = 670, FROM = "support@example.com", TO = "kari@example.com", SUBJECT = "Your password";

function webapiSender(base) {
    const { WebApi } = require("@superoffice/webapi");
    const api = new WebApi(base, "sv");
    api.authenticateWithTicket(TICKET);
    api.applicationToken(APP_TOKEN);
    const agent = api.getPersonAgent();
    return () => agent.sendCustomerCentrePasswordEmailAsync(PERSON, FROM, TO, SUBJECT);
}

function fetchSender(base) {
    const url = base + ENDPOINT;
    const body = JSON.stringify({ PersonId: PERSON, From: FROM, To: TO, Subject: SUBJECT });
    const headers = {
        Authorization: "SOTicket " + TICKET,
        "SO-AppToken": APP_TOKEN,
        Accept: "application/json",
        "Content-Type": "application/json; charset=utf-8",
        "Accept-Language": "sv",
        "SO-Language": "sv",
        "User-Agent": "superoffice-ffi/0.1.0",
    };
    return async () => {
        const res = await fetch(url, { method: "POST", headers, body });
        await res.arrayBuffer();
        if (res.status < 200 || res.status > 299) throw new Error(`fetch: HTTP ${res.status}`);
    };
}

async function main() {
    const [mode, rawBase, nText, concText] = process.argv.slice(2);
    const base = rawBase.replace(/\/+$/, "");
    const n = Number(nText), conc = Number(concText);
    const send = mode === "webapi" ? webapiSender(base) : mode === "fetch" ? fetchSender(base) : null;
    if (!send || !(n > 0) || !(conc > 0)) {
        console.error("usage: latency.js webapi|fetch BASE_URL N CONCURRENCY");
        process.exit(2);
    }
    let started = 0;
    async function worker() {
        while (started < n) {
            started++;
            await send();
        }
    }
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: Math.min(conc, n) }, worker));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`seconds ${seconds.toFixed(6)}`);
}

main().catch((err) => {
    console.error(`latency.js: ${err && err.message ? err.message : err}`);
    process.exit(1);
});

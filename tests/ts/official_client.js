// The official TypeScript client, @superoffice/webapi from npm, against the stub server:
// PersonAgent.sendCustomerCentrePasswordEmailAsync once for each authentication scheme the
// client offers (ticket, bearer token, user name and password), each on a tenant path that
// requires that exact scheme (auth=...). Each send must be answered 204, and the stub's
// request log must show it arrived with the client's camelCase JSON keys and the expected
// Authorization header. A wrong ticket must be refused with 401, so a failure would show.
//
// Usage: SO_STUB_URL=http://127.0.0.1:PORT node tests/ts/official_client.js
// (tests/ts/run.sh, `make test-ts`, installs the client and starts the stub.)
"use strict";

const assert = require("node:assert/strict");
const { WebApi } = require("@superoffice/webapi");
// The package's exports map hides its package.json from require(); read it beside dist/.
const clientVersion = JSON.parse(
    require("node:fs").readFileSync(
        require("node:path").join(require.resolve("@superoffice/webapi"), "..", "..", "..", "package.json"),
        "utf8",
    ),
).version;

const stub = process.env.SO_STUB_URL;
if (!stub) {
    console.error("official_client.js: SO_STUB_URL is not set (run tests/ts/run.sh)");
    process.exit(2);
}

const ENDPOINT = "/api/v1/Agents/Person/SendCustomerCentrePasswordEmail";
const run = `${process.pid}-${Date.now()}`;
const PERSON = 670, FROM = "support@example.com", TO = "kari@example.com", SUBJECT = "Your password";

// The schemes the stub accepts that this client can set (docs/stub-protocol.md). The
// fourth the stub accepts, X-XSRF-TOKEN without Authorization, is set by axios from a
// browser cookie only; the client has no call for it under Node.
const SCHEMES = [
    {
        name: "ticket",
        auth: (api) => api.authenticateWithTicket("7T:dGVzdA=="),
        header: "SOTicket 7T:dGVzdA==",
        tenant: "Cust12345",
    },
    {
        name: "bearer",
        auth: (api) => api.authenticateWithToken("8A:Cust12345.token"),
        header: "Bearer 8A:Cust12345.token",
        // The official clients accept a base URL ending in /api/ too.
        tenant: "Cust12345/api/",
    },
    {
        name: "basic",
        auth: (api) => api.authenticateWithPassword("tje0", "Tje0"),
        header: "Basic dGplMDpUamUw",
        tenant: "Cust12345",
    },
];

function header(recorded, name) {
    const found = recorded.headers.filter(([n]) => n.toLowerCase() === name.toLowerCase());
    assert.equal(found.length, 1, `exactly one ${name} header, got ${JSON.stringify(recorded.headers)}`);
    return found[0][1];
}

async function recorded(prefix) {
    const res = await fetch(`${stub}/_stub/requests?prefix=${encodeURIComponent(prefix)}`);
    assert.equal(res.status, 200, "the stub's request log");
    return res.json();
}

// One send through a fresh WebApi (its constructor resets the client's global options).
async function send(tenantPath, authenticate) {
    const api = new WebApi(`${stub}${tenantPath}`, "sv");
    authenticate(api);
    api.applicationToken("ts-test-app-token");
    const agent = api.getPersonAgent();
    let status = 0;
    const result = await agent.sendCustomerCentrePasswordEmailAsync(PERSON, FROM, TO, SUBJECT, {
        responseCallback: (response) => {
            status = response.status;
        },
    });
    return { status, result };
}

async function main() {
    const seen = [];
    for (const scheme of SCHEMES) {
        const prefix = `/ts-test-${scheme.name}-${run}/`;
        const { status, result } = await send(`${prefix}auth=${scheme.name}/${scheme.tenant}`, scheme.auth);
        assert.equal(status, 204, `${scheme.name}: the answer's status`);
        assert.ok(result === "" || result === null || result === undefined, `${scheme.name}: no result, got ${JSON.stringify(result)}`);

        const log = await recorded(prefix);
        assert.equal(log.length, 1, `${scheme.name}: one request recorded, got ${log.length}`);
        const req = log[0];
        assert.equal(req.method, "POST");
        assert.equal(req.path, `${prefix}auth=${scheme.name}/Cust12345${ENDPOINT}`);
        assert.equal(header(req, "Authorization"), scheme.header, `${scheme.name}: Authorization`);
        assert.equal(header(req, "SO-AppToken"), "ts-test-app-token");
        assert.match(header(req, "Content-Type"), /^application\/json/);
        // The client's own spelling of the body, which the stub (as the service) binds
        // without regard to case: camelCase keys, in this order.
        const body = JSON.parse(req.body);
        assert.deepEqual(Object.keys(body), ["personId", "from", "to", "subject"], `${scheme.name}: body keys`);
        assert.deepEqual(body, { personId: PERSON, from: FROM, to: TO, subject: SUBJECT });
        seen.push(`${scheme.name} 204`);
    }

    // A wrong ticket is refused: the client rejects with the stub's 401 and its error body.
    const prefix = `/ts-test-refused-${run}/`;
    await assert.rejects(
        send(`${prefix}auth=ticket/Cust12345`, (api) => api.authenticateWithTicket("7T:wrong")),
        (err) => {
            assert.equal(err.response && err.response.status, 401, `wrong ticket: ${err.message}`);
            assert.equal(err.response.data.ErrorType, "UnauthorizedAccessException");
            return true;
        },
    );
    assert.equal((await recorded(prefix)).length, 1, "the refused request was recorded once");
    seen.push("wrong ticket 401");

    console.log(`test-ts: ok: ${seen.join(", ")} (@superoffice/webapi ${clientVersion}, node ${process.version})`);
}

const watchdog = setTimeout(() => {
    console.error("test-ts: FAILED: no result within 25 s");
    process.exit(1);
}, 25000);
watchdog.unref();

main().then(
    () => process.exit(0),
    (err) => {
        console.error(`test-ts: FAILED: ${err && err.stack ? err.stack : err}`);
        process.exit(1);
    },
);

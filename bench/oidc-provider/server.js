// node oidc-provider as bench/limit.sh runs it: one process on 127.0.0.1,
// its default in-memory adapter (nothing is written anywhere), one
// confidential client "bench" allowed client_credentials, the token
// endpoint at /oauth/token like fcgi-oauth's behind the web servers.
//
//   BENCH_SECRET=... node bench/oidc-provider/server.js PORT
import Provider from "oidc-provider";

const port = Number(process.argv[2]);
const secret = process.env.BENCH_SECRET;
if (!Number.isInteger(port) || port <= 0 || !secret) {
  console.error("usage: BENCH_SECRET=... node server.js PORT");
  process.exit(2);
}

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: "bench",
    client_secret: secret,
    grant_types: ["client_credentials"],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: "client_secret_basic",
    scope: "read",
  }],
  scopes: ["read"],
  features: {
    clientCredentials: { enabled: true },
    devInteractions: { enabled: false },
  },
  routes: { token: "/oauth/token" },
  // fcgi-oauth's OAUTH_ACCESS_TTL default.
  ttl: { ClientCredentials: 3600 },
});
// Its warnings about the development keys and adapter are expected here.
provider.listen(port, "127.0.0.1");

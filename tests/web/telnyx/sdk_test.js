// The official Telnyx SDK (npm "telnyx") as a client of fcgi-oauth: its
// oauth.token and oauth.introspect calls, sent to the responder behind a
// real web server instead of the Telnyx API.  Prints one "ok - ..." or
// "not ok - ..." line per check; tests/web/test_telnyx_sdk.sh counts them.
//
// Environment: OAUTH_BASE (the web server's origin, e.g.
// http://127.0.0.1:8080, under which /oauth/ is fcgi-oauth), CLIENT_ID and
// CLIENT_SECRET (a confidential client with client_credentials).
'use strict';

const Telnyx = require('telnyx');

const TELNYX_API = 'https://api.telnyx.com/v2';
const base = process.env.OAUTH_BASE;
const clientID = process.env.CLIENT_ID;
const clientSecret = process.env.CLIENT_SECRET;
const requestTimeout = 10000;	// milliseconds for one request

let failures = 0;

function check(desc, cond, detail) {
	if (cond) {
		console.log(`ok - ${desc}`);
	} else {
		failures++;
		console.log(`not ok - ${desc}${detail ? ` (${detail})` : ''}`);
	}
}

// The SDK fetches its own token from the Telnyx API's address, whatever
// baseURL says: send that, and everything else, to the loopback server.
function loopbackFetch(url, init) {
	const s = String(url);
	const to = s.startsWith(TELNYX_API) ? base + s.slice(TELNYX_API.length) : s;
	if (!to.startsWith(base))
		throw new Error(`refusing a request to ${to}: loopback only`);
	return fetch(to, init);
}

function sdk(secret) {
	return new Telnyx({
		clientID,
		clientSecret: secret,
		baseURL: base,
		fetch: loopbackFetch,
		maxRetries: 0,
		timeout: requestTimeout,
		logLevel: 'off',
	});
}

// Revokes token as the client itself (the SDK has no revocation call).
async function revoke(token) {
	const res = await loopbackFetch(`${base}/oauth/revoke`, {
		method: 'POST',
		headers: {
			'Content-Type': 'application/x-www-form-urlencoded',
			Authorization: 'Basic ' + Buffer.from(
			    `${encodeURIComponent(clientID)}:` +
			    `${encodeURIComponent(clientSecret)}`).toString('base64'),
		},
		body: new URLSearchParams({ token }).toString(),
	});
	return res.status;
}

async function main() {
	const client = sdk(clientSecret);
	let issued;

	// Body credentials, and the SDK's own Bearer token beside them.
	try {
		issued = await client.oauth.token({
			grant_type: 'client_credentials',
			client_id: clientID,
			client_secret: clientSecret,
		});
		check('oauth.token issues an access token',
		    typeof issued.access_token === 'string' &&
		    issued.access_token.length > 0);
		check('oauth.token says Bearer and a lifetime',
		    issued.token_type === 'Bearer' && issued.expires_in > 0,
		    JSON.stringify({ token_type: issued.token_type,
			expires_in: issued.expires_in }));
	} catch (e) {
		check('oauth.token issues an access token', false, e.message);
		return;
	}

	// Authorized by the SDK's own Bearer token (RFC 7662 §2.1).
	try {
		const r = await client.oauth.introspect({ token: issued.access_token });
		check('oauth.introspect finds the token active', r.active === true,
		    JSON.stringify(r));
		check('oauth.introspect names the client', r.client_id === clientID);
		check('oauth.introspect reports scope and expiry',
		    typeof r.scope === 'string' && typeof r.exp === 'number');
	} catch (e) {
		check('oauth.introspect finds the token active', false, e.message);
	}

	check('the client revokes the token', (await revoke(issued.access_token)) === 200);
	try {
		const r = await client.oauth.introspect({ token: issued.access_token });
		check('oauth.introspect of a revoked token is exactly inactive',
		    JSON.stringify(r) === '{"active":false}', JSON.stringify(r));
	} catch (e) {
		check('oauth.introspect of a revoked token is exactly inactive',
		    false, e.message);
	}

	// A wrong secret: the SDK's own token request fails, and says so.
	try {
		await sdk('wrong-secret-0123456789abcdefghijkl').oauth.token({
			grant_type: 'client_credentials',
			client_id: clientID,
			client_secret: 'wrong-secret-0123456789abcdefghijkl',
		});
		check('a wrong secret is refused', false, 'a token was issued');
	} catch (e) {
		check('a wrong secret is refused with 401', e.status === 401,
		    `status ${e.status}: ${e.message}`);
		check('the refusal is invalid_client',
		    e.error && e.error.error === 'invalid_client',
		    JSON.stringify(e.error));
		check('the refusal does not echo the secret',
		    !String(e.message).includes('wrong-secret'));
	}
}

main().then(() => {
	process.exitCode = failures > 0 ? 1 : 0;
}, (e) => {
	console.log(`not ok - the SDK run ended early: ${e.message}`);
	process.exitCode = 1;
});

// DPoP (RFC 9449) with openid-client (npm, on oauth4webapi, which makes
// and checks DPoP as the RFC says) as the client of fcgi-oauth behind a
// real web server: metadata, client_credentials bound to an ES256 key,
// the authorization code flow of a public client with dpop_jkt and an
// EdDSA key, /userinfo with the DPoP scheme, refresh of the public
// client's refresh token (bound: another key is refused), and a proof
// sent by several connections at once, which the server's processes must
// take exactly once.  Prints one "ok - ..." or "not ok - ..." line per
// check; tests/web/test_dpop.sh counts them.
//
// Environment: ISSUER (http://127.0.0.1:PORT/oauth); CONF_ID and
// CONF_SECRET (a confidential client with client_credentials and the read
// scope); PUB_ID (a public client with openid, authorization_code and
// refresh_token), REDIRECT_URI (registered for it; never fetched);
// USER_NAME and USER_PASS (the Basic user of /authorize); OUT_DIR (where
// the bound access token and the thumbprint are written for the shell's
// introspection checks: cc_token, cc_jkt, and pub_token, the public
// client's, asked for the resource https://mcp.example/); NONCE=on when the server asks
// for DPoP nonces (RFC 9449 §8), which the library then fetches and
// sends: the run checks that it was asked.
import * as client from 'openid-client';
import { authorize, check, refused, requestTimeout, results, step, why }
    from './client_lib.mjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const issuer = process.env.ISSUER;
const confId = process.env.CONF_ID;
const confSecret = process.env.CONF_SECRET;
const pubId = process.env.PUB_ID;
const redirectUri = process.env.REDIRECT_URI;
const userName = process.env.USER_NAME;
const outDir = process.env.OUT_DIR;
const nonces = process.env.NONCE === 'on';	// OAUTH_DPOP_NONCE=on
const racers = 8;		// connections sending one proof at once

// What the server said of nonces: use_dpop_nonce answers, and answers
// carrying a DPoP-Nonce header.
const seen = { useNonce: 0, nonceHeaders: 0 };

async function countingFetch(url, init) {
	const res = await fetch(url, init);
	if (res.headers.get('dpop-nonce') !== null)
		seen.nonceHeaders++;
	const www = res.headers.get('www-authenticate') ?? '';
	if (res.status === 400 || res.status === 401) {
		const body = await res.clone().text();
		if (/use_dpop_nonce/.test(body) || /use_dpop_nonce/.test(www))
			seen.useNonce++;
	}
	return res;
}

function discover(id, auth, extra = {}) {
	return client.discovery(new URL(issuer), id, undefined, auth, {
		algorithm: 'oidc',
		execute: [client.allowInsecureRequests],
		timeout: requestTimeout,
		[client.customFetch]: countingFetch,
		...extra,
	});
}

// Whether the DPoP proof of a request carries a nonce claim.
function proofHasNonce(proof) {
	const claims = JSON.parse(Buffer.from(proof.split('.')[1], 'base64url'));
	return typeof claims.nonce === 'string';
}

async function clientCredentials(meta) {
	const config = await step('discovery for the confidential client',
	    () => discover(confId, client.ClientSecretBasic(confSecret)));
	if (config === undefined)
		return;
	const es256 = client.getDPoPHandle(config,
	    await client.randomDPoPKeyPair('ES256'));
	const jkt = await es256.calculateThumbprint();
	const tokens = await step('client_credentials with an ES256 DPoP proof',
	    () => client.clientCredentialsGrant(config, { scope: 'read' },
		{ DPoP: es256 }));
	if (tokens === undefined)
		return;
	check('... token_type is DPoP', tokens.token_type === 'dpop',
	    tokens.token_type);
	writeFileSync(join(outDir, 'cc_token'), tokens.access_token);
	writeFileSync(join(outDir, 'cc_jkt'), jkt);

	// A proof made but never sent: the same one, from several
	// connections at once, is taken once, whichever process gets it.
	let proof;
	const capture = await discover(confId,
	    client.ClientSecretBasic(confSecret), {
		[client.customFetch]: async (url, init) => {
			const dpop = new Headers(init.headers).get('dpop');
			// With nonces, the proof kept back is the retry that
			// carries the nonce the first answer gave.
			if (dpop === null || (nonces && !proofHasNonce(dpop)))
				return countingFetch(url, init);
			proof = dpop;
			return new Response('{"error":"invalid_request"}', {
				status: 400,
				headers: { 'content-type': 'application/json' },
			});
		},
	});
	const handle = client.getDPoPHandle(capture,
	    await client.randomDPoPKeyPair('ES256'));
	await client.clientCredentialsGrant(capture, { scope: 'read' },
	    { DPoP: handle }).catch(() => undefined);
	if (!check('a proof was made and kept back', typeof proof === 'string'))
		return;
	const body = new URLSearchParams({ grant_type: 'client_credentials',
	    scope: 'read' });
	const basic = 'Basic ' + Buffer.from(
	    `${encodeURIComponent(confId)}:${encodeURIComponent(confSecret)}`)
	    .toString('base64');
	const answers = await Promise.all(Array.from({ length: racers },
	    () => fetch(meta.token_endpoint, {
		method: 'POST',
		headers: { Authorization: basic, DPoP: proof,
		    'Content-Type': 'application/x-www-form-urlencoded' },
		body: body.toString(),
		signal: AbortSignal.timeout(requestTimeout * 1000),
	    }).then(async (r) => ({ status: r.status, body: await r.json() }))));
	const won = answers.filter((a) => a.status === 200);
	const lost = answers.filter((a) => a.status === 400 &&
	    a.body.error === 'invalid_dpop_proof');
	check(`one proof from ${racers} connections at once: exactly one token`,
	    won.length === 1 && lost.length === racers - 1,
	    answers.map((a) => a.status).join(' '));
}

async function publicClient(meta) {
	const config = await step('discovery for the public client',
	    () => discover(pubId, client.None()));
	if (config === undefined)
		return;
	const ed = client.getDPoPHandle(config,
	    await client.randomDPoPKeyPair('EdDSA'));
	const jkt = await ed.calculateThumbprint();
	const verifier = client.randomPKCECodeVerifier();
	const nonce = client.randomNonce();
	const state = client.randomState();
	const back = await step('/authorize with dpop_jkt of an EdDSA key',
	    async () => authorize(config, {
		redirect_uri: redirectUri,
		scope: 'openid',
		code_challenge: await client.calculatePKCECodeChallenge(verifier),
		code_challenge_method: 'S256',
		dpop_jkt: jkt,
		// RFC 8707, as the Model Context Protocol has clients name
		// the server they want a token for.
		resource: 'https://mcp.example/',
		nonce,
		state,
	    }));
	if (back === undefined)
		return;
	const other = client.getDPoPHandle(config,
	    await client.randomDPoPKeyPair('ES256'));
	await refused('the code redeemed with a proof by another key: ' +
	    'invalid_grant', () => client.authorizationCodeGrant(config, back, {
		pkceCodeVerifier: verifier, expectedNonce: nonce,
		expectedState: state }, undefined, { DPoP: other }),
	    (e) => e.error === 'invalid_grant');
	// A refused redemption spends nothing: the right key still may.
	const tokens = await step('the code redeemed with the dpop_jkt key ' +
	    'and its resource: ID Token validated',
	    () => client.authorizationCodeGrant(config, back, {
		pkceCodeVerifier: verifier, expectedNonce: nonce,
		expectedState: state, idTokenExpected: true },
		{ resource: 'https://mcp.example/' }, { DPoP: ed }));
	if (tokens === undefined)
		return;
	writeFileSync(join(outDir, 'pub_token'), tokens.access_token);
	check('... token_type is DPoP', tokens.token_type === 'dpop',
	    tokens.token_type);
	check('... with a refresh token', typeof tokens.refresh_token === 'string');
	const sub = tokens.claims()?.sub;
	const info = await step('userinfo with the DPoP scheme and a proof',
	    () => client.fetchUserInfo(config, tokens.access_token, sub,
		{ DPoP: ed }));
	check('... names the user', info?.sub === userName, info?.sub);
	await refused('userinfo with a proof by another key: refused',
	    () => client.fetchUserInfo(config, tokens.access_token, sub,
		{ DPoP: other }),
	    (e) => /invalid_token/.test(why(e)) || e.status === 401);
	const bearer = await fetch(meta.userinfo_endpoint, {
		headers: { Authorization: `Bearer ${tokens.access_token}` },
		signal: AbortSignal.timeout(requestTimeout * 1000),
	});
	check('userinfo with the bound token as a bearer token: 401 ' +
	    'invalid_token', bearer.status === 401 &&
	    /invalid_token/.test(bearer.headers.get('www-authenticate') ?? ''),
	    `${bearer.status} ${bearer.headers.get('www-authenticate')}`);
	await refused('refresh of the public client\'s token with another ' +
	    'key: invalid_grant', () => client.refreshTokenGrant(config,
		tokens.refresh_token, undefined, { DPoP: other }),
	    (e) => e.error === 'invalid_grant');
	const fresh = await step('refresh with the same key',
	    () => client.refreshTokenGrant(config, tokens.refresh_token,
		undefined, { DPoP: ed }));
	check('... token_type is DPoP', fresh?.token_type === 'dpop',
	    fresh?.token_type);
	const info2 = fresh && await step('userinfo with the refreshed token',
	    () => client.fetchUserInfo(config, fresh.access_token, sub,
		{ DPoP: ed }));
	check('... names the user', info2?.sub === userName, info2?.sub);
}

async function main() {
	const config = await step('discovery of the issuer',
	    () => discover(confId, client.ClientSecretBasic(confSecret)));
	if (config === undefined)
		return;
	const meta = config.serverMetadata();
	const algs = meta.dpop_signing_alg_values_supported ?? [];
	check('metadata: dpop_signing_alg_values_supported has ES256, EdDSA, ' +
	    'RS256', ['ES256', 'EdDSA', 'RS256'].every((a) => algs.includes(a)),
	    JSON.stringify(algs));
	check('metadata: no symmetric or "none" algorithm',
	    algs.every((a) => !/^(HS|none)/.test(a)), JSON.stringify(algs));
	await clientCredentials(meta);
	await publicClient(meta);
	if (nonces)
		check('the server asked for nonces (use_dpop_nonce, DPoP-Nonce) ' +
		    'and the library sent them', seen.useNonce > 0 &&
		    seen.nonceHeaders > seen.useNonce,
		    `${seen.useNonce} use_dpop_nonce, ${seen.nonceHeaders} ` +
		    'DPoP-Nonce headers');
	else
		check('without OAUTH_DPOP_NONCE no nonce is asked for',
		    seen.useNonce === 0 && seen.nonceHeaders === 0,
		    `${seen.useNonce} use_dpop_nonce, ${seen.nonceHeaders} ` +
		    'DPoP-Nonce headers');
}

try {
	await main();
} catch (e) {
	check('the run ends without an unexpected error', false, why(e));
}
process.exitCode = results.failures === 0 ? 0 : 1;

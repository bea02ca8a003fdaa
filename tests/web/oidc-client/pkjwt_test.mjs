// private_key_jwt (RFC 7523 §2.2) with openid-client (npm, on
// oauth4webapi) as the client of fcgi-oauth behind a real web server: the
// client signs its assertions with keys it made, whose public halves the
// operator registered (oauthctl client add --jwks), and uses them at the
// token, introspection and revocation endpoints; an assertion sent again,
// and one by a key nobody registered, are refused.  Prints one "ok - ..."
// or "not ok - ..." line per check; tests/web/test_private_key_jwt.sh
// counts them.
//
//   node pkjwt_test.mjs keys DIR     make the keys: DIR/public.jwks (to
//                                    register), DIR/private.json (kept)
//   node pkjwt_test.mjs run DIR      the client's run
//
// Environment of run: ISSUER (http://127.0.0.1:PORT/oauth), CLIENT_ID.
import * as client from 'openid-client';
import { check, refused, requestTimeout, results, step, why }
    from './client_lib.mjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// An ES256 key (kid es1) and an Ed25519 key (no kid): their public JWKs
// as a set, and the private ones for the run.
async function keys(dir) {
	const pub = [], priv = {};
	for (const [name, alg, kid] of [['es', 'ES256', 'es1'],
	    ['ed', 'EdDSA', undefined]]) {
		const pair = await client.randomDPoPKeyPair(alg, {
		    extractable: true });
		const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
		delete jwk.key_ops;
		delete jwk.ext;
		if (kid)
			jwk.kid = kid;
		pub.push(jwk);
		priv[name] = { jwk: await crypto.subtle.exportKey('jwk',
		    pair.privateKey), alg, kid };
	}
	writeFileSync(join(dir, 'public.jwks'), JSON.stringify({ keys: pub }));
	writeFileSync(join(dir, 'private.json'), JSON.stringify(priv),
	    { mode: 0o600 });
}

async function importKey(k) {
	const algorithm = k.alg === 'ES256' ?
	    { name: 'ECDSA', namedCurve: 'P-256' } : { name: 'Ed25519' };
	return crypto.subtle.importKey('jwk', k.jwk, algorithm, false, ['sign']);
}

async function run(dir) {
	const issuer = process.env.ISSUER, clientId = process.env.CLIENT_ID;
	const priv = JSON.parse(readFileSync(join(dir, 'private.json')));
	let sent;	// the body of the last token request, as sent
	const keepBody = async (url, init) => {
		if (String(url).endsWith('/token'))
			sent = String(init.body);
		return fetch(url, init);
	};
	const discover = async (key, kid) => client.discovery(new URL(issuer),
	    clientId, undefined, client.PrivateKeyJwt({ key, kid }), {
		algorithm: 'oidc',
		execute: [client.allowInsecureRequests],
		timeout: requestTimeout,
		[client.customFetch]: keepBody,
	    });
	const es = await step('discovery, authenticating with the ES256 key',
	    async () => discover(await importKey(priv.es), priv.es.kid));
	if (es === undefined)
		return;
	const meta = es.serverMetadata();
	check('metadata: private_key_jwt at the token endpoint',
	    (meta.token_endpoint_auth_methods_supported ?? [])
		.includes('private_key_jwt'));
	check('metadata: ES256 assertions taken',
	    (meta.token_endpoint_auth_signing_alg_values_supported ?? [])
		.includes('ES256'));
	const tokens = await step('client_credentials with an ES256 assertion',
	    () => client.clientCredentialsGrant(es, { scope: 'read' }));
	if (tokens === undefined)
		return;
	const replay = await fetch(meta.token_endpoint, {
		method: 'POST',
		headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
		body: sent,
		signal: AbortSignal.timeout(requestTimeout * 1000),
	});
	const rbody = await replay.json().catch(() => ({}));
	check('the same assertion sent again: 401 invalid_client',
	    replay.status === 401 && rbody.error === 'invalid_client',
	    `${replay.status} ${JSON.stringify(rbody)}`);
	const info = await step('introspection, authenticated by an assertion',
	    () => client.tokenIntrospection(es, tokens.access_token));
	check('... the token is active and the client\'s',
	    info?.active === true && info?.client_id === clientId,
	    JSON.stringify(info));

	const ed = await step('discovery, authenticating with the Ed25519 key ' +
	    '(no kid: the set is tried)', async () =>
	    discover(await importKey(priv.ed), undefined));
	if (ed !== undefined) {
		await step('revocation, authenticated by an Ed25519 assertion',
		    () => client.tokenRevocation(ed, tokens.access_token));
		const after = await step('introspection after it',
		    () => client.tokenIntrospection(ed, tokens.access_token));
		check('... the token is revoked', after?.active === false,
		    JSON.stringify(after));
	}
	const stranger = await client.randomDPoPKeyPair('ES256');
	const other = await discover(stranger.privateKey, 'es1');
	await refused('an assertion by a key nobody registered: invalid_client',
	    () => client.clientCredentialsGrant(other, { scope: 'read' }),
	    (e) => e.error === 'invalid_client');
}

try {
	if (process.argv[2] === 'keys')
		await keys(process.argv[3]);
	else
		await run(process.argv[3]);
} catch (e) {
	check('the run ends without an unexpected error', false, why(e));
}
process.exitCode = results.failures === 0 ? 0 : 1;

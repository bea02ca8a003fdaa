// Dynamic client registration (RFC 7591) with openid-client (npm, on
// oauth4webapi) against fcgi-oauth behind a real web server: a
// confidential client registers with the initial access token, gets a
// token with the credentials the registration gave it; a client of keys
// registers its public key (private_key_jwt, jwks) and gets a token with
// an assertion signed by its private key; a public client
// registers, with a loopback redirect URI, and runs the code flow with PKCE
// through /authorize; the registration is read and deleted with its
// registration access token (RFC 7592), after which the client is gone.
// Prints one "ok - ..." or "not ok - ..." line per check;
// tests/web/test_registration.sh counts them.
//
// Environment: ISSUER (http://127.0.0.1:PORT/oauth), INITIAL_TOKEN,
// USER_NAME and USER_PASS (the Basic user of /authorize).
import * as client from 'openid-client';
import { authorize, check, refused, requestTimeout, results, step, why }
    from './client_lib.mjs';

const issuer = process.env.ISSUER;
const initialAccessToken = process.env.INITIAL_TOKEN;
const options = {
	algorithm: 'oauth2',
	execute: [client.allowInsecureRequests],
	timeout: requestTimeout,
	initialAccessToken,
};

async function main() {
	const conf = await step('a confidential client registers with the ' +
	    'initial access token', () => client.dynamicClientRegistration(
		new URL(issuer), {
			grant_types: ['client_credentials'],
			scope: 'read',
			token_endpoint_auth_method: 'client_secret_basic',
		}, undefined, options));
	if (conf === undefined)
		return;
	const meta = conf.clientMetadata();
	check('... with an id, a secret and a registration access token',
	    typeof meta.client_id === 'string' &&
	    typeof meta.client_secret === 'string' &&
	    typeof meta.registration_access_token === 'string',
	    JSON.stringify(Object.keys(meta)));
	const tokens = await step('... and gets a token with them',
	    () => client.clientCredentialsGrant(conf, { scope: 'read' }));
	check('... of the scope it registered', tokens?.scope === 'read',
	    tokens?.scope);

	const pair = await crypto.subtle.generateKey(
	    { name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
	const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk',
	    pair.publicKey);
	const keyed = await step('a client of keys registers its public key ' +
	    '(private_key_jwt)', () => client.dynamicClientRegistration(
		new URL(issuer), {
			grant_types: ['client_credentials'],
			scope: 'read',
			token_endpoint_auth_method: 'private_key_jwt',
			jwks: { keys: [{ kty, crv, x, y }] },
		}, client.PrivateKeyJwt(pair.privateKey), options));
	if (keyed !== undefined) {
		check('... and is given no secret',
		    keyed.clientMetadata().client_secret === undefined,
		    JSON.stringify(Object.keys(keyed.clientMetadata())));
		await step('... and gets a token with an assertion',
		    () => client.clientCredentialsGrant(keyed,
			{ scope: 'read' }));
	}

	await refused('registration without the initial access token: refused',
	    () => client.dynamicClientRegistration(new URL(issuer), {
		grant_types: ['client_credentials'],
		token_endpoint_auth_method: 'client_secret_basic',
	    }, undefined, { ...options, initialAccessToken: undefined }));

	const redirectUri = 'http://127.0.0.1:9/callback';
	const pub = await step('a public client registers (PKCE, loopback ' +
	    'redirect URI)', () => client.dynamicClientRegistration(
		new URL(issuer), {
			redirect_uris: [redirectUri],
			grant_types: ['authorization_code'],
			response_types: ['code'],
			token_endpoint_auth_method: 'none',
			scope: 'read',
		}, client.None(), options));
	if (pub === undefined)
		return;
	const verifier = client.randomPKCECodeVerifier();
	const state = client.randomState();
	const back = await step('... /authorize lets it ask for a code',
	    async () => authorize(pub, {
		redirect_uri: redirectUri,
		scope: 'read',
		code_challenge: await client.calculatePKCECodeChallenge(verifier),
		code_challenge_method: 'S256',
		state,
	    }));
	if (back !== undefined)
		await step('... which it redeems', () =>
		    client.authorizationCodeGrant(pub, back, {
			pkceCodeVerifier: verifier, expectedState: state }));

	// RFC 7592 with the registration access token, by hand.
	const m = pub.clientMetadata();
	const auth = { Authorization: `Bearer ${m.registration_access_token}` };
	const read = await fetch(m.registration_client_uri, { headers: auth,
	    signal: AbortSignal.timeout(requestTimeout * 1000) });
	const body = await read.json().catch(() => ({}));
	check('RFC 7592: the registration reads back',
	    read.status === 200 && body.client_id === m.client_id,
	    `${read.status} ${JSON.stringify(body)}`);
	const del = await fetch(m.registration_client_uri, { method: 'DELETE',
	    headers: auth, signal: AbortSignal.timeout(requestTimeout * 1000) });
	check('RFC 7592: DELETE ends it (204)', del.status === 204,
	    String(del.status));
	const again = await fetch(m.registration_client_uri, { headers: auth,
	    signal: AbortSignal.timeout(requestTimeout * 1000) });
	check('... and then it is gone (401)', again.status === 401,
	    String(again.status));
}

try {
	await main();
} catch (e) {
	check('the run ends without an unexpected error', false, why(e));
}
process.exitCode = results.failures === 0 ? 0 : 1;

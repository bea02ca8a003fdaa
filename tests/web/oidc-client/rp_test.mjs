// openid-client (npm, on oauth4webapi) as an OpenID Connect relying party
// of fcgi-oauth behind a real web server: discovery against the issuer,
// the authorization code flow with PKCE S256, state and nonce, the token
// request, the library's ID Token validation (its signature against
// jwks_uri included: enableNonRepudiationChecks), /userinfo, and a refresh
// whose new ID Token validates too.  There is no browser: the
// authorization URL the library builds is fetched here with the user's
// Basic credentials, which the web server checks, and the code is taken
// from the 302's Location.  Prints one "ok - ..." or "not ok - ..." line
// per check; tests/web/test_oidc_client.sh counts them.
//
// Environment: ISSUER (http://127.0.0.1:PORT/oauth), CLIENT_ID and
// CLIENT_SECRET (a confidential client with the openid scope and the
// authorization_code and refresh_token grants), REDIRECT_URI (registered
// for it; never fetched), USER_NAME and USER_PASS (the Basic user of
// /authorize), OUT_DIR (where the ID Tokens and access tokens are written
// for the independent check: id_token, access_token, nonce, and the same
// with a .refresh suffix).
import * as client from 'openid-client';
import { authorize, check, refused, requestTimeout, results, step, why }
    from './client_lib.mjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const issuer = process.env.ISSUER;
const clientId = process.env.CLIENT_ID;
const clientSecret = process.env.CLIENT_SECRET;
const redirectUri = process.env.REDIRECT_URI;
const userName = process.env.USER_NAME;
const outDir = process.env.OUT_DIR;

async function main() {
	const config = await step('discovery of the issuer (openid-configuration)',
	    () => client.discovery(new URL(issuer), clientId, undefined,
		client.ClientSecretBasic(clientSecret), {
			algorithm: 'oidc',
			execute: [client.allowInsecureRequests],
			timeout: requestTimeout,
		}));
	if (config === undefined)
		return;
	const meta = config.serverMetadata();
	check('metadata: issuer is the identifier discovered', meta.issuer === issuer,
	    meta.issuer);
	check('metadata: PKCE S256 supported', config.serverMetadata().supportsPKCE('S256'));
	check('metadata: RS256 ID Tokens',
	    (meta.id_token_signing_alg_values_supported ?? []).includes('RS256'));
	// Every ID Token's signature is checked against jwks_uri from now on.
	client.enableNonRepudiationChecks(config);

	const verifier = client.randomPKCECodeVerifier();
	const challenge = await client.calculatePKCECodeChallenge(verifier);
	const nonce = client.randomNonce();
	const state = client.randomState();
	const back = await step('/authorize as the Basic user: 302 back with a code',
	    () => authorize(config, {
		redirect_uri: redirectUri,
		scope: 'openid',
		code_challenge: challenge,
		code_challenge_method: 'S256',
		nonce,
		state,
	    }));
	if (back === undefined)
		return;
	check('... to the registered redirect_uri',
	    back.href.startsWith(redirectUri + '?'), back.href);

	const tokens = await step('code grant: token response and its ID Token ' +
	    'validated (signature, iss, aud, exp, iat, nonce, state, PKCE)',
	    () => client.authorizationCodeGrant(config, back, {
		pkceCodeVerifier: verifier,
		expectedNonce: nonce,
		expectedState: state,
		idTokenExpected: true,
	    }));
	if (tokens === undefined)
		return;
	const claims = tokens.claims();
	check('... the ID Token names the user (sub)', claims?.sub === userName,
	    claims?.sub);
	check('... and echoes the nonce', claims?.nonce === nonce);
	check('... issued to this client (aud)',
	    [].concat(claims?.aud).includes(clientId), JSON.stringify(claims?.aud));
	check('... with a refresh token', typeof tokens.refresh_token === 'string');
	writeFileSync(join(outDir, 'id_token'), tokens.id_token);
	writeFileSync(join(outDir, 'access_token'), tokens.access_token);
	writeFileSync(join(outDir, 'nonce'), nonce);

	const info = await step('userinfo with the access token',
	    () => client.fetchUserInfo(config, tokens.access_token, claims.sub));
	check('... names the same subject', info?.sub === userName, info?.sub);

	const fresh = await step('refresh: a new token response, its ID Token ' +
	    'validated (signature, iss, aud, exp, iat)',
	    () => client.refreshTokenGrant(config, tokens.refresh_token));
	if (fresh !== undefined) {
		const c2 = fresh.claims();
		check('... a new ID Token', typeof fresh.id_token === 'string' &&
		    fresh.id_token !== tokens.id_token);
		check('... for the same user and client', c2?.sub === claims.sub &&
		    [].concat(c2?.aud).includes(clientId));
		check('... the refresh token rotated',
		    typeof fresh.refresh_token === 'string' &&
		    fresh.refresh_token !== tokens.refresh_token);
		writeFileSync(join(outDir, 'id_token.refresh'), fresh.id_token);
		writeFileSync(join(outDir, 'access_token.refresh'),
		    fresh.access_token);
		const info2 = await step('userinfo with the refreshed access token',
		    () => client.fetchUserInfo(config, fresh.access_token,
			claims.sub));
		check('... names the same subject', info2?.sub === userName);
	}

	// The library's checks are live: a response for another nonce or
	// state is refused, whatever the server sent.
	const v2 = client.randomPKCECodeVerifier();
	const back2 = await step('a second authorization, for the negative checks',
	    async () => authorize(config, {
		redirect_uri: redirectUri,
		scope: 'openid',
		code_challenge: await client.calculatePKCECodeChallenge(v2),
		code_challenge_method: 'S256',
		nonce: 'the-nonce-sent',
		state: 'the-state-sent',
	    }));
	if (back2 !== undefined) {
		await refused('the library refuses a state that is not the one sent',
		    () => client.authorizationCodeGrant(config, back2, {
			pkceCodeVerifier: v2,
			expectedNonce: 'the-nonce-sent',
			expectedState: 'another-state',
		    }));
		await refused('the library refuses an ID Token whose nonce is ' +
		    'not the one sent', () => client.authorizationCodeGrant(config,
			back2, {
			pkceCodeVerifier: v2,
			expectedNonce: 'another-nonce',
			expectedState: 'the-state-sent',
			idTokenExpected: true,
		    }));
		// The nonce check came after the code was redeemed.
		await refused('the same code again: the server says invalid_grant',
		    () => client.authorizationCodeGrant(config, back2, {
			pkceCodeVerifier: v2,
			expectedNonce: 'the-nonce-sent',
			expectedState: 'the-state-sent',
		    }), (e) => e.error === 'invalid_grant');
	}

	// The signature check is live too: the same discovery, but the ID
	// Token of its token responses gets one character of its signature
	// changed on the way.
	const forged = await step('a discovery whose token responses are altered',
	    () => client.discovery(new URL(issuer), clientId, undefined,
		client.ClientSecretBasic(clientSecret), {
			algorithm: 'oidc',
			execute: [client.allowInsecureRequests,
			    client.enableNonRepudiationChecks],
			timeout: requestTimeout,
			[client.customFetch]: alterIdToken(meta.token_endpoint),
		}));
	const v3 = client.randomPKCECodeVerifier();
	const back3 = forged && await step('a third authorization',
	    async () => authorize(forged, {
		redirect_uri: redirectUri,
		scope: 'openid',
		code_challenge: await client.calculatePKCECodeChallenge(v3),
		code_challenge_method: 'S256',
		nonce: 'the-nonce-sent',
		state: 'the-state-sent',
	    }));
	if (back3)
		await refused('the library refuses an ID Token whose signature ' +
		    'was changed', () => client.authorizationCodeGrant(forged,
			back3, {
			pkceCodeVerifier: v3,
			expectedNonce: 'the-nonce-sent',
			expectedState: 'the-state-sent',
			idTokenExpected: true,
		    }), (e) => /signature verification failed/.test(why(e)));
}

// A fetch that changes one character in the middle of the signature of the
// id_token in the responses of tokenEndpoint.
function alterIdToken(tokenEndpoint) {
	return async (url, init) => {
		const res = await fetch(url, init);
		if (String(url) !== tokenEndpoint || res.status !== 200)
			return res;
		const body = await res.json();
		if (typeof body.id_token === 'string') {
			const p = body.id_token.split('.');
			const m = p[2].length >> 1;
			p[2] = p[2].slice(0, m) + (p[2][m] === 'A' ? 'B' : 'A') +
			    p[2].slice(m + 1);
			body.id_token = p.join('.');
		}
		return new Response(JSON.stringify(body), {
			status: res.status,
			headers: res.headers,
		});
	};
}

try {
	await main();
} catch (e) {
	check('the run ends without an unexpected error', false, why(e));
}
process.exitCode = results.failures === 0 ? 0 : 1;

// Mutual TLS (RFC 8705) with openid-client (npm, on oauth4webapi) as the
// client of fcgi-oauth behind a real web server over TLS: the client
// authenticates by its certificate alone (client.TlsClientAuth(), which
// sends client_id and nothing else), at the token, introspection and
// revocation endpoints.  A client registered by its subject DN
// (tls_client_auth) presents the certificate the test's CA signed for it,
// one registered by its certificate (self_signed_tls_client_auth) that
// certificate; each gets a Bearer token bound to it (introspection's
// cnf.x5t#S256 is the SHA-256 of the certificate's DER), revokes it, and
// introspection then says inactive.  The subject's client presenting the
// self-signed certificate, or no certificate, is refused.  The discovered
// metadata must offer both methods and certificate-bound tokens.  Prints
// one "ok - ..." or "not ok - ..." line per check; tests/web/test_mtls.sh
// counts them.
//
// Node's global fetch cannot present a client certificate (that needs
// undici's Agent, which is not a dependency here), so the library's
// customFetch is node:https: one connection per request (no keep-alive,
// no session reuse across certificates), the server checked against the
// test's CA, the answer made a global Response.
//
// Environment: ISSUER (https://127.0.0.1:PORT/oauth); PKI (the test's
// certificates: ca.pem, the CA of the server's certificate and of
// client.pem; client.pem and client.key, the CA's certificate of DN_ID's
// subject; self.pem and self.key, the self-signed certificate SELF_ID is
// registered with); DN_ID (a tls_client_auth client); SELF_ID (a
// self_signed_tls_client_auth client).
import * as client from 'openid-client';
import { check, refused, requestTimeout, results, step, why }
    from './client_lib.mjs';
import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';

const issuer = process.env.ISSUER;
const pki = process.env.PKI;
const dnId = process.env.DN_ID;
const selfId = process.env.SELF_ID;
const ca = readFileSync(join(pki, 'ca.pem'));

// The RFC 8705 §3.1 thumbprint of PKI/NAME.pem: base64url of the SHA-256
// of its DER.
function thumbprint(name) {
	const pem = readFileSync(join(pki, `${name}.pem`));
	const der = new X509Certificate(pem).raw;
	return createHash('sha256').update(der).digest('base64url');
}

// The global Response of what node:https received: the status, every
// header as sent, and the body (none for a HEAD, 204, 205 or 304).
function toResponse(res, method, chunks) {
	const headers = new Headers();
	for (let i = 0; i + 1 < res.rawHeaders.length; i += 2)
		headers.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
	const empty = method === 'HEAD' ||
	    [204, 205, 304].includes(res.statusCode);
	return new Response(empty ? null : Buffer.concat(chunks), {
		status: res.statusCode,
		statusText: res.statusMessage,
		headers,
	});
}

// tlsFetch NAME: a fetch for [client.customFetch] that presents NAME's
// certificate (PKI/NAME.pem, PKI/NAME.key), or none when NAME is
// undefined.  It sends only to the issuer's origin, over https, the
// server's certificate checked against PKI/ca.pem; it resolves to a
// global Response of the status, headers and body the server sent, or
// rejects on a TLS or socket error, a timeout or the init's signal.
function tlsFetch(name) {
	const tls = { ca };
	if (name !== undefined) {
		tls.cert = readFileSync(join(pki, `${name}.pem`));
		tls.key = readFileSync(join(pki, `${name}.key`));
	}
	const origin = new URL(issuer).origin;
	return (url, init = {}) => new Promise((resolve, reject) => {
		const target = new URL(url);
		if (target.origin !== origin || target.protocol !== 'https:') {
			reject(new Error(`refusing to fetch ${target}: ` +
			    'not the issuer\'s https origin'));
			return;
		}
		const body = init.body === undefined || init.body === null ?
		    undefined : Buffer.from(String(init.body));
		const headers = Object.fromEntries(
		    new Headers(init.headers).entries());
		if (body !== undefined)
			headers['content-length'] = String(body.length);
		const method = init.method ?? 'GET';
		const req = https.request(target, {
			method,
			headers,
			agent: false,
			timeout: requestTimeout * 1000,
			signal: init.signal,
			...tls,
		}, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('error', reject);
			res.on('end', () =>
			    resolve(toResponse(res, method, chunks)));
		});
		req.on('timeout', () => req.destroy(new Error(
		    `no answer from ${target} in ${requestTimeout} s`)));
		req.on('error', reject);
		req.end(body);
	});
}

// A configuration for client ID that authenticates by the certificate
// of NAME (none when undefined), discovered by RFC 8414 metadata.
// Nothing is added to execute: the issuer is https, so the library's
// refusal of plain http stays on.
function discover(id, name) {
	return client.discovery(new URL(issuer), id, undefined,
	    client.TlsClientAuth(), {
		algorithm: 'oauth2',
		execute: [],
		timeout: requestTimeout,
		[client.customFetch]: tlsFetch(name),
	    });
}

// A refusal of client authentication as the library reports it: a
// ResponseBodyError whose error is invalid_client (RFC 6749 §5.2).
function invalidClient(e) {
	return e instanceof client.ResponseBodyError &&
	    e.error === 'invalid_client';
}

// What the client ID, authenticated by the certificate NAME, does with a
// token of client_credentials: LABEL names the method in the result lines.
async function flows(label, id, name) {
	const config = await step(`${label}: discovery, with the client's ` +
	    'certificate', () => discover(id, name));
	if (config === undefined)
		return;
	const tokens = await step(`${label}: client_credentials`,
	    () => client.clientCredentialsGrant(config, { scope: 'read' }));
	if (tokens === undefined)
		return;
	check(`${label}: ... token_type Bearer with an access token`,
	    tokens.token_type === 'bearer' &&
	    typeof tokens.access_token === 'string' &&
	    tokens.access_token !== '',
	    `token_type ${tokens.token_type}`);
	const info = await step(`${label}: introspection, authenticated by ` +
	    'the same certificate', () => client.tokenIntrospection(config,
	    tokens.access_token));
	const x5t = thumbprint(name);
	check(`${label}: ... active, the client's, cnf.x5t#S256 the ` +
	    'certificate\'s thumbprint', info?.active === true &&
	    info?.client_id === id && info?.cnf?.['x5t#S256'] === x5t,
	    `${JSON.stringify(info)}, thumbprint ${x5t}`);
	await step(`${label}: revocation, authenticated by the certificate`,
	    () => client.tokenRevocation(config, tokens.access_token));
	const after = await step(`${label}: introspection after it`,
	    () => client.tokenIntrospection(config, tokens.access_token));
	check(`${label}: ... the token is inactive`, after?.active === false,
	    JSON.stringify(after));
}

async function main() {
	const config = await step('discovery of the issuer over TLS',
	    () => discover(dnId, 'client'));
	if (config === undefined)
		return;
	const meta = config.serverMetadata();
	const methods = meta.token_endpoint_auth_methods_supported ?? [];
	check('metadata: token_endpoint_auth_methods_supported has ' +
	    'tls_client_auth and self_signed_tls_client_auth',
	    methods.includes('tls_client_auth') &&
	    methods.includes('self_signed_tls_client_auth'),
	    JSON.stringify(methods));
	check('metadata: tls_client_certificate_bound_access_tokens is true',
	    meta.tls_client_certificate_bound_access_tokens === true,
	    JSON.stringify(meta.tls_client_certificate_bound_access_tokens));

	await flows('tls_client_auth', dnId, 'client');
	await flows('self_signed_tls_client_auth', selfId, 'self');

	const wrong = await discover(dnId, 'self');
	await refused('tls_client_auth presenting the self-signed ' +
	    'certificate: invalid_client',
	    () => client.clientCredentialsGrant(wrong, { scope: 'read' }),
	    invalidClient);
	const none = await discover(dnId, undefined);
	await refused('tls_client_auth with no certificate: invalid_client',
	    () => client.clientCredentialsGrant(none, { scope: 'read' }),
	    invalidClient);
	const noneSelf = await discover(selfId, undefined);
	await refused('self_signed_tls_client_auth with no certificate: ' +
	    'invalid_client',
	    () => client.clientCredentialsGrant(noneSelf, { scope: 'read' }),
	    invalidClient);
}

try {
	await main();
} catch (e) {
	check('the run ends without an unexpected error', false, why(e));
}
process.exitCode = results.failures === 0 ? 0 : 1;

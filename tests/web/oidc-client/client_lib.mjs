// What the client runs share (rp_test.mjs, dpop_test.mjs, pkjwt_test.mjs):
// their result lines, one "ok - ..." or "not ok - ..." per check, which
// the shell tests count, and the failures so far; and /authorize as a user
// agent would request it.
import * as client from 'openid-client';

export const results = { failures: 0 };
export const requestTimeout = 10;	// seconds for one request

// check DESC COND [DETAIL]: one result line; returns COND.
export function check(desc, cond, detail) {
	if (cond) {
		console.log(`ok - ${desc}`);
	} else {
		results.failures++;
		console.log(`not ok - ${desc}${detail ? ` (${detail})` : ''}`);
	}
	return cond;
}

// What a library error says: its code, message and cause, one line.
export function why(e) {
	let s = `${e.name}${e.code ? ` ${e.code}` : ''}: ${e.message}`;
	if (e.error)
		s += ` [error=${e.error} ${e.error_description ?? ''}]`;
	for (let c = e.cause; c instanceof Error; c = c.cause)
		s += ` (cause: ${c.code ? `${c.code} ` : ''}${c.message})`;
	return s;
}

// step DESC FN: one result line for whether FN resolves; its value, or
// undefined when it threw.
export async function step(desc, fn) {
	try {
		const v = await fn();
		check(desc, true);
		return v;
	} catch (e) {
		check(desc, false, why(e));
		return undefined;
	}
}

// refused DESC FN [TEST]: one result line for whether FN throws, as a
// check must (and the error passes TEST when given).
export async function refused(desc, fn, test) {
	try {
		await fn();
		check(desc, false, 'accepted');
	} catch (e) {
		check(desc, test === undefined || test(e), why(e));
		console.log(`#   ${why(e)}`);
	}
}

// The authorization request as the user agent sends it, the user
// (USER_NAME, USER_PASS) signed in with Basic, to the issuer (ISSUER)
// only; the redirect back (a URL), or throws.
export async function authorize(config, params) {
	const url = client.buildAuthorizationUrl(config, params);
	if (url.origin !== new URL(process.env.ISSUER).origin)
		throw new Error(`refusing to fetch ${url}: not the issuer's origin`);
	const res = await fetch(url, {
		redirect: 'manual',
		headers: {
			Authorization: 'Basic ' + Buffer.from(
			    `${process.env.USER_NAME}:${process.env.USER_PASS}`)
			    .toString('base64'),
		},
		signal: AbortSignal.timeout(requestTimeout * 1000),
	});
	const loc = res.headers.get('location');
	if (res.status !== 302 || loc === null)
		throw new Error(`/authorize answered ${res.status}: ` +
		    (await res.text()).slice(0, 300));
	return new URL(loc);
}

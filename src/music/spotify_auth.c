/* spotify_auth.c - the sign-in half of the Spotify client: SHA-256 and
 * base64url for PKCE (RFC 7636), random verifiers and states, the
 * /authorize URL, and configuration from the environment or a .env file.
 * Pure functions apart from getrandom and getenv; no network. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "moodsync/spotify.h"

/* ---- SHA-256 (FIPS 180-4) --------------------------------------------- */

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror32(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

/* One 64-byte block into the state h[8]. */
static void sha256_block(uint32_t h[8], const uint8_t *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (i = 16; i < 64; i++) {
		uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^
			      (w[i - 15] >> 3);
		uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^
			      (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0], b = h[1], c = h[2], d = h[3];
	e = h[4], f = h[5], g = h[6], hh = h[7];
	for (i = 0; i < 64; i++) {
		t1 = hh + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) +
		     ((e & f) ^ (~e & g)) + sha256_k[i] + w[i];
		t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) +
		     ((a & b) ^ (a & c) ^ (b & c));
		hh = g, g = f, f = e, e = d + t1;
		d = c, c = b, b = a, a = t1 + t2;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d;
	h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

void music_sha256(const void *data, size_t len, uint8_t out[32])
{
	uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	const uint8_t *p = data;
	uint8_t tail[128];
	uint64_t bits = (uint64_t)len * 8;
	size_t rest, tlen, i;

	for (; len >= 64; len -= 64, p += 64)
		sha256_block(h, p);
	rest = len;
	memset(tail, 0, sizeof(tail));
	if (rest)
		memcpy(tail, p, rest);
	tail[rest] = 0x80;
	tlen = rest + 1 + 8 <= 64 ? 64 : 128;
	for (i = 0; i < 8; i++)
		tail[tlen - 1 - i] = (uint8_t)(bits >> (8 * i));
	sha256_block(h, tail);
	if (tlen == 128)
		sha256_block(h, tail + 64);
	for (i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(h[i] >> 8);
		out[4 * i + 3] = (uint8_t)h[i];
	}
}

/* ---- base64url, random strings, PKCE ----------------------------------- */

size_t music_base64url(const uint8_t *in, size_t len, char *out, size_t outlen)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t need = len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0), i, o = 0;

	if (len > SIZE_MAX / 2 || need + 1 > outlen)
		return 0;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
			     in[i + 2];
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
	}
	out[o] = '\0';
	return o;
}

int music_random_string(size_t nbytes, char *out, size_t outlen)
{
	uint8_t raw[96];
	size_t got = 0;

	if (nbytes == 0 || nbytes > sizeof(raw))
		return MS_EINVAL;
	while (got < nbytes) {
		ssize_t r = getrandom(raw + got, nbytes - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return MS_EIO;
		got += (size_t)r;
	}
	return music_base64url(raw, nbytes, out, outlen) ? MS_OK : MS_ELIMIT;
}

static int pkce_char_ok(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

int music_pkce_challenge(const char *verifier, char out[44])
{
	uint8_t digest[32];
	size_t n = verifier ? strlen(verifier) : 0, i;

	if (n < 43 || n > 128)
		return MS_EINVAL;
	for (i = 0; i < n; i++)
		if (!pkce_char_ok(verifier[i]))
			return MS_EINVAL;
	music_sha256(verifier, n, digest);
	return music_base64url(digest, 32, out, 44) == 43 ? MS_OK : MS_ELIMIT;
}

int music_url_encode(struct ms_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = MS_OK;

	for (; *s && rc == MS_OK; s++) {
		unsigned char c = (unsigned char)*s;
		if (pkce_char_ok((char)c)) {
			rc = ms_buf_append(b, s, 1);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			rc = ms_buf_append(b, e, 3);
		}
	}
	return rc;
}

int music_spotify_authorize_url(const struct music_spotify_config *cfg,
				const char *state, const char *challenge,
				struct ms_buf *out)
{
	int rc =
		ms_buf_printf(out, "%s/authorize?response_type=code&client_id=",
			      cfg->accounts_url);

	if (!rc)
		rc = music_url_encode(out, cfg->client_id);
	if (!rc)
		rc = ms_buf_puts(out, "&scope=");
	if (!rc)
		rc = music_url_encode(out, MUSIC_SPOTIFY_SCOPES);
	if (!rc)
		rc = ms_buf_puts(out, "&redirect_uri=");
	if (!rc)
		rc = music_url_encode(out, cfg->redirect_uri);
	if (!rc)
		rc = ms_buf_puts(out, "&state=");
	if (!rc)
		rc = music_url_encode(out, state);
	if (!rc)
		rc = ms_buf_puts(out, "&code_challenge_method=S256"
				      "&code_challenge=");
	if (!rc)
		rc = music_url_encode(out, challenge);
	return rc;
}

/* ---- .env and configuration ------------------------------------------- */

static int env_key_ok(const char *k, size_t n)
{
	size_t i;

	if (n == 0 || n > 128 || (k[0] >= '0' && k[0] <= '9'))
		return 0;
	for (i = 0; i < n; i++) {
		char c = k[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int music_dotenv_parse(const char *text, size_t len,
		       int (*cb)(void *ctx, const char *key, const char *val),
		       void *ctx, char *err, size_t errlen)
{
	char line[4096], *key, *val, *eq, *end;
	size_t pos = 0, lineno = 0, n;
	int rc;

	if (len > MUSIC_DOTENV_MAX)
		return ms_errf(err, errlen, MS_ELIMIT,
			       ".env: larger than %u bytes", MUSIC_DOTENV_MAX);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		lineno++;
		if (n >= sizeof(line))
			return ms_errf(err, errlen, MS_ELIMIT,
				       ".env line %zu: longer than %zu bytes",
				       lineno, sizeof(line) - 1);
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl ? 1 : 0);
		if (memchr(line, '\0', n))
			return ms_errf(err, errlen, MS_EFORMAT,
				       ".env line %zu: NUL byte", lineno);
		key = line;
		while (is_space(*key))
			key++;
		if (*key == '\0' || *key == '#')
			continue;
		if (strncmp(key, "export ", 7) == 0)
			for (key += 7; is_space(*key); key++)
				;
		eq = strchr(key, '=');
		if (!eq)
			return ms_errf(err, errlen, MS_EFORMAT,
				       ".env line %zu: expected KEY=VALUE",
				       lineno);
		for (end = eq; end > key && is_space(end[-1]); end--)
			;
		*end = '\0';
		if (!env_key_ok(key, (size_t)(end - key)))
			return ms_errf(err, errlen, MS_EFORMAT,
				       ".env line %zu: bad key name", lineno);
		for (val = eq + 1; is_space(*val); val++)
			;
		if (*val == '"' || *val == '\'') {
			char *close = strchr(val + 1, *val);
			if (!close)
				return ms_errf(err, errlen, MS_EFORMAT,
					       ".env line %zu: unclosed quote",
					       lineno);
			for (end = close + 1; is_space(*end); end++)
				;
			if (*end && *end != '#')
				return ms_errf(err, errlen, MS_EFORMAT,
					       ".env line %zu: text after the "
					       "closing quote",
					       lineno);
			*close = '\0';
			val++;
		} else {
			char *hash = strstr(val, " #");
			char *tab = strstr(val, "\t#");
			if (tab && (!hash || tab < hash))
				hash = tab;
			if (hash)
				*hash = '\0';
			for (end = val + strlen(val);
			     end > val && is_space(end[-1]); end--)
				;
			*end = '\0';
		}
		rc = cb(ctx, key, val);
		if (rc)
			return rc;
	}
	return MS_OK;
}

/* The keys we read, their slot in the config and their default. */
struct cfg_key {
	const char *name;
	size_t off, size;
	const char *def;
};

#define CFG_FIELD(f)                                                           \
	offsetof(struct music_spotify_config, f),                              \
		sizeof(((struct music_spotify_config *)0)->f)

static const struct cfg_key cfg_keys[] = {
	{"MOODSYNC_SPOTIFY_CLIENT_ID", CFG_FIELD(client_id), ""},
	{"MOODSYNC_SPOTIFY_CLIENT_SECRET", CFG_FIELD(client_secret), ""},
	{"MOODSYNC_SPOTIFY_REDIRECT_URI", CFG_FIELD(redirect_uri),
	 "http://127.0.0.1:5000/callback"},
	{"MOODSYNC_SPOTIFY_ACCOUNTS_URL", CFG_FIELD(accounts_url),
	 "https://accounts.spotify.com"},
	{"MOODSYNC_SPOTIFY_API_URL", CFG_FIELD(api_url),
	 "https://api.spotify.com"},
};

struct cfg_ctx {
	struct music_spotify_config *cfg;
	unsigned seen;	  /* bit i: key i came from the environment */
	char timeout[16]; /* MOODSYNC_SPOTIFY_TIMEOUT_MS from .env */
	char *err;
	size_t errlen;
};

static int cfg_set(struct music_spotify_config *cfg, size_t i, const char *v,
		   char *err, size_t errlen)
{
	char *dst = (char *)cfg + cfg_keys[i].off;
	size_t n = strlen(v);

	if (n >= cfg_keys[i].size)
		return ms_errf(err, errlen, MS_ELIMIT, "%s: longer than %zu",
			       cfg_keys[i].name, cfg_keys[i].size - 1);
	memcpy(dst, v, n + 1);
	return MS_OK;
}

static int cfg_dotenv_cb(void *vctx, const char *key, const char *val)
{
	struct cfg_ctx *ctx = vctx;
	size_t i;

	if (strcmp(key, "MOODSYNC_SPOTIFY_TIMEOUT_MS") == 0) {
		if (strlen(val) >= sizeof(ctx->timeout))
			return ms_errf(
				ctx->err, ctx->errlen, MS_EINVAL,
				"MOODSYNC_SPOTIFY_TIMEOUT_MS: bad value");
		memcpy(ctx->timeout, val, strlen(val) + 1);
		return MS_OK;
	}
	for (i = 0; i < MS_ARRAY_LEN(cfg_keys); i++) {
		if (strcmp(key, cfg_keys[i].name) != 0 ||
		    (ctx->seen & (1u << i)))
			continue;
		if (i == 2)
			ctx->cfg->redirect_explicit = 1;
		return cfg_set(ctx->cfg, i, val, ctx->err, ctx->errlen);
	}
	return MS_OK;
}

/* Drops trailing slashes; insists on http(s) so curl never sees file://. */
static int cfg_check_url(char *u, const char *name, char *err, size_t errlen)
{
	size_t n = strlen(u);

	while (n > 0 && u[n - 1] == '/')
		u[--n] = '\0';
	if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
		return ms_errf(err, errlen, MS_EINVAL,
			       "%s: must start with http:// or https://", name);
	return MS_OK;
}

int music_spotify_config_load(struct music_spotify_config *cfg,
			      const char *dotenv_path, char *err, size_t errlen)
{
	struct music_spotify_config c;
	struct cfg_ctx ctx;
	const char *env_timeout = getenv("MOODSYNC_SPOTIFY_TIMEOUT_MS");
	uint8_t *text = NULL;
	size_t i, len = 0;
	int rc = MS_OK;

	memset(&c, 0, sizeof(c));
	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = &c;
	ctx.err = err;
	ctx.errlen = errlen;
	for (i = 0; i < MS_ARRAY_LEN(cfg_keys); i++) {
		const char *v = getenv(cfg_keys[i].name);
		rc = cfg_set(&c, i, v && *v ? v : cfg_keys[i].def, err, errlen);
		if (rc)
			goto out;
		if (v) /* set, even to "": the .env does not override it */
			ctx.seen |= 1u << i;
		if (v && *v && i == 2)
			c.redirect_explicit = 1;
	}
	if (dotenv_path) {
		char ferr[MS_ERRLEN];
		rc = ms_file_read(dotenv_path, MUSIC_DOTENV_MAX, &text, &len,
				  ferr, sizeof(ferr));
		if (rc == MS_ENOTFOUND) {
			rc = MS_OK; /* no .env: the environment is enough */
		} else if (rc == MS_ELIMIT) {
			rc = ms_errf(err, errlen, rc,
				     "%s: larger than %u bytes", dotenv_path,
				     MUSIC_DOTENV_MAX);
			goto out;
		} else if (rc) {
			rc = ms_errf(err, errlen, rc, "%s", ferr);
			goto out;
		} else {
			rc = music_dotenv_parse((const char *)text, len,
						cfg_dotenv_cb, &ctx, err,
						errlen);
			if (rc)
				goto out;
		}
	}
	c.timeout_ms = 8000;
	if (env_timeout && *env_timeout)
		rc = ms_parse_int(env_timeout, 100, 120000, &c.timeout_ms);
	else if (ctx.timeout[0])
		rc = ms_parse_int(ctx.timeout, 100, 120000, &c.timeout_ms);
	if (rc) {
		rc = ms_errf(err, errlen, MS_EINVAL,
			     "MOODSYNC_SPOTIFY_TIMEOUT_MS: want 100..120000");
		goto out;
	}
	c.connect_timeout_ms = MS_MIN(c.timeout_ms, 4000);
	rc = cfg_check_url(c.accounts_url, "MOODSYNC_SPOTIFY_ACCOUNTS_URL", err,
			   errlen);
	if (!rc)
		rc = cfg_check_url(c.api_url, "MOODSYNC_SPOTIFY_API_URL", err,
				   errlen);
	if (!rc && strncmp(c.redirect_uri, "http", 4) != 0)
		rc = ms_errf(
			err, errlen, MS_EINVAL,
			"MOODSYNC_SPOTIFY_REDIRECT_URI: want an http(s) URL");
	if (!rc)
		*cfg = c;
out:
	free(text);
	return rc;
}

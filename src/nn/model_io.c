/* model_io.c - the MoodSync model file (".msnn"): writer and validating
 * parser, shared by shipped models and training checkpoints.
 *
 * Format, version 1. All integers and floats little-endian.
 *   offset 0  char[4] magic "MSNN"
 *          4  u32 version            1
 *          8  u32 kind               0 = model, 1 = training checkpoint
 *         12  u32 side               face crop the caller hands in (8..256)
 *         16  u32 crop               centre crop the net sees (8..side)
 *         20  f32 norm_mean          net input = (pixel/255 - mean) / std
 *         24  f32 norm_std
 *         28  u32 n_layers           1..64
 *         32  n_layers x 7 u32       type out k stride pad flags p_milli
 *                                    (enum nn_layer_type, see nn_internal.h)
 *             u32 n_tensors          1..1024
 *             n_tensors x tensor:
 *               u8  name_len         1..31
 *               name_len bytes       [A-Za-z0-9._]
 *               u8  dtype            0 = f32, 1 = u8
 *               u8  ndim             1..4
 *               u32 dims[ndim]       each >= 1, product <= 2^24 elements
 *               data                 product(dims) * (4 or 1) bytes
 *             u32 crc32              IEEE CRC-32 of every byte before it
 * The tensors of a model are exactly the parameters the layer list implies,
 * each once, any order: conv/dense "L<i>.w" (out,in,k,k)/(out,in) and
 * "L<i>.b" (out) when flagged; batch norm "L<i>.gamma" "L<i>.beta"
 * "L<i>.mean" "L<i>.var" (c). Values must be finite, variances >= 0. A
 * checkpoint adds "M.<name>" (SGD momentum, same shape) for every trainable
 * tensor and "train.state" (u8, the trainer's counters and RNG). Files are
 * capped at 256 MiB; anything else is rejected with a reason. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "nn/nn_internal.h"

#define NN_MAGIC "MSNN"
#define NN_VERSION 1u
#define NN_MAX_FILE (256u << 20)
#define NN_MAX_TENSORS 1024u
#define NN_MAX_ELEMS (1u << 24)
#define NN_MAX_STATE 4096u

uint32_t nn_crc32(const uint8_t *p, size_t n)
{
	static uint32_t table[256];
	static int ready;
	uint32_t c = 0xffffffffu;

	if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t v = i;

			for (int k = 0; k < 8; k++)
				v = (v & 1) ? 0xedb88320u ^ (v >> 1) : v >> 1;
			table[i] = v;
		}
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	for (size_t i = 0; i < n; i++)
		c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

/* ---- writer ---- */

static int put_u32(struct ms_buf *b, uint32_t v)
{
	uint8_t t[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			(uint8_t)(v >> 24)};

	return ms_buf_append(b, t, 4);
}

static int put_f32(struct ms_buf *b, float f)
{
	uint32_t v;

	memcpy(&v, &f, 4);
	return put_u32(b, v);
}

static int put_tensor(struct ms_buf *b, const char *prefix,
		      const struct nn_param *p, const float *data)
{
	char name[40];
	uint8_t hdr[3];
	int rc, n = snprintf(name, sizeof(name), "%s%s", prefix, p->name);

	if (n < 1 || n > 31)
		return MS_ELIMIT;
	hdr[0] = (uint8_t)n;
	if ((rc = ms_buf_append(b, hdr, 1)) || (rc = ms_buf_append(b, name, n)))
		return rc;
	hdr[0] = 0;
	hdr[1] = (uint8_t)p->ndim;
	if ((rc = ms_buf_append(b, hdr, 2)))
		return rc;
	for (int i = 0; i < p->ndim; i++)
		if ((rc = put_u32(b, (uint32_t)p->dims[i])))
			return rc;
	for (size_t i = 0; i < p->n; i++)
		if ((rc = put_f32(b, data[i])))
			return rc;
	return MS_OK;
}

int nn_net_serialize(const struct nn_net *net, uint32_t kind,
		     const uint8_t *state, size_t state_len, uint8_t **out,
		     size_t *out_len)
{
	const struct nn_arch *a = &net->arch;
	struct ms_buf b;
	uint32_t nt = (uint32_t)net->n_params;
	int rc;

	ms_buf_init(&b, NN_MAX_FILE);
	if (kind == NN_FILE_CHECKPOINT) {
		for (int i = 0; i < net->n_params; i++)
			nt += net->params[i].trainable;
		nt++;
	}
	if ((rc = ms_buf_append(&b, NN_MAGIC, 4)) ||
	    (rc = put_u32(&b, NN_VERSION)) || (rc = put_u32(&b, kind)) ||
	    (rc = put_u32(&b, (uint32_t)a->side)) ||
	    (rc = put_u32(&b, (uint32_t)a->crop)) ||
	    (rc = put_f32(&b, a->norm_mean)) ||
	    (rc = put_f32(&b, a->norm_std)) ||
	    (rc = put_u32(&b, (uint32_t)a->n_layers)))
		goto out_fail;
	for (int i = 0; i < a->n_layers; i++) {
		const struct nn_layer_spec *l = &a->layers[i];
		uint32_t f[7] = {l->type, l->out,   l->k,      l->stride,
				 l->pad,  l->flags, l->p_milli};

		for (int j = 0; j < 7; j++)
			if ((rc = put_u32(&b, f[j])))
				goto out_fail;
	}
	if ((rc = put_u32(&b, nt)))
		goto out_fail;
	for (int i = 0; i < net->n_params; i++)
		if ((rc = put_tensor(&b, "", &net->params[i],
				     net->params[i].w)))
			goto out_fail;
	if (kind == NN_FILE_CHECKPOINT) {
		uint8_t hdr[3] = {11, 1, 1};

		for (int i = 0; i < net->n_params; i++)
			if (net->params[i].trainable &&
			    (rc = put_tensor(&b, "M.", &net->params[i],
					     net->params[i].m)))
				goto out_fail;
		if ((rc = ms_buf_append(&b, hdr, 1)) ||
		    (rc = ms_buf_append(&b, "train.state", 11)) ||
		    (rc = ms_buf_append(&b, hdr + 1, 2)) ||
		    (rc = put_u32(&b, (uint32_t)state_len)) ||
		    (rc = ms_buf_append(&b, state, state_len)))
			goto out_fail;
	}
	if ((rc = put_u32(&b, nn_crc32((const uint8_t *)b.data, b.len))))
		goto out_fail;
	*out = (uint8_t *)ms_buf_steal(&b, out_len);
	return MS_OK;
out_fail:
	ms_buf_release(&b);
	return rc;
}

int nn_file_write_atomic(const char *path, const uint8_t *buf, size_t len,
			 char *err, size_t errlen)
{
	char tmp[4096];
	int fd, rc = MS_OK;
	size_t off = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp))
		return ms_errf(err, errlen, MS_ELIMIT, "path too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return ms_errf(err, errlen, MS_EIO, "%s: %s", tmp,
			       strerror(errno));
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = ms_errf(err, errlen, MS_EIO, "%s: %s", tmp,
				     strerror(errno));
			goto out_close;
		}
		off += (size_t)w;
	}
	if (fsync(fd))
		rc = ms_errf(err, errlen, MS_EIO, "%s: %s", tmp,
			     strerror(errno));
out_close:
	if (close(fd) && !rc)
		rc = ms_errf(err, errlen, MS_EIO, "%s: %s", tmp,
			     strerror(errno));
	if (!rc && rename(tmp, path))
		rc = ms_errf(err, errlen, MS_EIO, "%s: %s", path,
			     strerror(errno));
	if (rc)
		unlink(tmp);
	return rc;
}

int nn_net_save(const struct nn_net *net, const char *path, char *err,
		size_t errlen)
{
	uint8_t *buf;
	size_t len;
	int rc = nn_net_serialize(net, NN_FILE_MODEL, NULL, 0, &buf, &len);

	if (rc)
		return ms_errf(err, errlen, rc, "cannot serialise model");
	rc = nn_file_write_atomic(path, buf, len, err, errlen);
	free(buf);
	return rc;
}

/* ---- parser ---- */

struct reader {
	const uint8_t *p;
	size_t len, pos;
};

static int get_bytes(struct reader *r, size_t n, const uint8_t **out)
{
	if (n > r->len - r->pos)
		return MS_EFORMAT;
	*out = r->p + r->pos;
	r->pos += n;
	return MS_OK;
}

static int get_u32(struct reader *r, uint32_t *v)
{
	const uint8_t *b;

	if (get_bytes(r, 4, &b))
		return MS_EFORMAT;
	*v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	     (uint32_t)b[3] << 24;
	return MS_OK;
}

static int get_f32(struct reader *r, float *f)
{
	uint32_t v;

	if (get_u32(r, &v))
		return MS_EFORMAT;
	memcpy(f, &v, 4);
	return MS_OK;
}

static int name_ok(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '_'))
			return 0;
	return 1;
}

/* Reads one tensor's header; data stays in place (*data, *n elements). */
static int get_tensor(struct reader *r, char name[32], uint8_t *dtype,
		      int *ndim, int dims[4], size_t *n, const uint8_t **data)
{
	const uint8_t *b;
	uint8_t nl;

	if (get_bytes(r, 1, &b))
		return MS_EFORMAT;
	nl = b[0];
	if (nl < 1 || nl > 31 || get_bytes(r, nl, &b) || !name_ok(b, nl))
		return MS_EFORMAT;
	memcpy(name, b, nl);
	name[nl] = 0;
	if (get_bytes(r, 2, &b) || b[0] > 1 || b[1] < 1 || b[1] > 4)
		return MS_EFORMAT;
	*dtype = b[0];
	*ndim = b[1];
	*n = 1;
	for (int i = 0; i < *ndim; i++) {
		uint32_t d;

		if (get_u32(r, &d) || d < 1 || d > NN_MAX_ELEMS)
			return MS_EFORMAT;
		dims[i] = (int)d;
		*n *= d;
		if (*n > NN_MAX_ELEMS)
			return MS_ELIMIT;
	}
	return get_bytes(r, *n * (*dtype ? 1 : 4), data);
}

static int shape_eq(const struct nn_param *p, int ndim, const int *dims)
{
	if (p->ndim != ndim)
		return 0;
	for (int i = 0; i < ndim; i++)
		if (p->dims[i] != dims[i])
			return 0;
	return 1;
}

static int load_floats(float *dst, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t v = (uint32_t)src[4 * i] |
			     (uint32_t)src[4 * i + 1] << 8 |
			     (uint32_t)src[4 * i + 2] << 16 |
			     (uint32_t)src[4 * i + 3] << 24;

		memcpy(&dst[i], &v, 4);
		if (!isfinite(dst[i]))
			return MS_EFORMAT;
	}
	return MS_OK;
}

/* Magic, checksum, version, kind and the layer list; leaves r after the
 * layer list. */
static int parse_header(struct reader *r, const uint8_t *buf, size_t len,
			uint32_t *k, struct nn_arch *a, char *err,
			size_t errlen)
{
	uint32_t version, side, crop, nl, crc;
	const uint8_t *magic;

	memset(a, 0, sizeof(*a));
	if (len > NN_MAX_FILE)
		return ms_errf(err, errlen, MS_ELIMIT, "model file too large");
	if (len < 40)
		return ms_errf(err, errlen, MS_EFORMAT, "model file truncated");
	r->len = len - 4;
	crc = (uint32_t)buf[len - 4] | (uint32_t)buf[len - 3] << 8 |
	      (uint32_t)buf[len - 2] << 16 | (uint32_t)buf[len - 1] << 24;
	if (get_bytes(r, 4, &magic) || memcmp(magic, NN_MAGIC, 4))
		return ms_errf(err, errlen, MS_EFORMAT,
			       "not a model file (magic)");
	if (nn_crc32(buf, len - 4) != crc)
		return ms_errf(err, errlen, MS_EFORMAT,
			       "checksum mismatch (corrupt or truncated)");
	if (get_u32(r, &version) || version != NN_VERSION)
		return ms_errf(err, errlen, MS_EFORMAT,
			       "unsupported model version");
	if (get_u32(r, k) || *k > NN_FILE_CHECKPOINT)
		return ms_errf(err, errlen, MS_EFORMAT, "unknown file kind");
	if (get_u32(r, &side) || get_u32(r, &crop) ||
	    get_f32(r, &a->norm_mean) || get_f32(r, &a->norm_std) ||
	    get_u32(r, &nl))
		return ms_errf(err, errlen, MS_EFORMAT, "header truncated");
	if (side > NN_MAX_SIDE || crop > NN_MAX_SIDE || nl < 1 ||
	    nl > NN_MAX_LAYERS)
		return ms_errf(err, errlen, MS_ELIMIT, "header out of range");
	a->side = (int)side;
	a->crop = (int)crop;
	a->n_layers = (int)nl;
	for (uint32_t i = 0; i < nl; i++) {
		struct nn_layer_spec *l = &a->layers[i];

		if (get_u32(r, &l->type) || get_u32(r, &l->out) ||
		    get_u32(r, &l->k) || get_u32(r, &l->stride) ||
		    get_u32(r, &l->pad) || get_u32(r, &l->flags) ||
		    get_u32(r, &l->p_milli))
			return ms_errf(err, errlen, MS_EFORMAT,
				       "layer list truncated");
	}
	return MS_OK;
}

/* The tensor list into net (values, and momenta of a checkpoint); the
 * state blob of a checkpoint into *st. seen[2i+m] counts tensor i's
 * values (m = 0) and momenta (m = 1). */
static int parse_tensors(struct reader *r, uint32_t k, struct nn_net *net,
			 uint8_t *seen, const uint8_t **st, size_t *st_len,
			 char *err, size_t errlen)
{
	uint32_t nt;

	if (get_u32(r, &nt) || nt < 1 || nt > NN_MAX_TENSORS)
		return ms_errf(err, errlen, MS_EFORMAT, "bad tensor count");
	for (uint32_t t = 0; t < nt; t++) {
		char name[32];
		uint8_t dtype;
		int ndim, dims[4], mom;
		size_t n;
		const uint8_t *data;
		struct nn_param *p;

		if (get_tensor(r, name, &dtype, &ndim, dims, &n, &data))
			return ms_errf(err, errlen, MS_EFORMAT,
				       "tensor %u malformed or truncated", t);
		if (k == NN_FILE_CHECKPOINT &&
		    strcmp(name, "train.state") == 0) {
			if (*st || dtype != 1 || ndim != 1 || n > NN_MAX_STATE)
				return ms_errf(err, errlen, MS_EFORMAT,
					       "bad train.state");
			*st = data;
			*st_len = n;
			continue;
		}
		mom = k == NN_FILE_CHECKPOINT && strncmp(name, "M.", 2) == 0;
		p = nn_net_param(net, mom ? name + 2 : name);
		if (!p || dtype != 0 || !shape_eq(p, ndim, dims) ||
		    (mom && !p->trainable))
			return ms_errf(err, errlen, MS_EFORMAT,
				       "unexpected tensor '%s' or wrong shape",
				       name);
		if (seen[(p - net->params) * 2 + mom]++)
			return ms_errf(err, errlen, MS_EFORMAT,
				       "duplicate tensor '%s'", name);
		if (load_floats(mom ? p->m : p->w, data, n))
			return ms_errf(err, errlen, MS_EFORMAT,
				       "tensor '%s' has a non-finite value",
				       name);
	}
	if (r->pos != r->len)
		return ms_errf(err, errlen, MS_EFORMAT, "trailing bytes");
	return MS_OK;
}

/* Every tensor present (momenta too in a checkpoint), variances >= 0. */
static int check_complete(const struct nn_net *net, uint32_t k,
			  const uint8_t *seen, char *err, size_t errlen)
{
	for (int i = 0; i < net->n_params; i++) {
		const struct nn_param *p = &net->params[i];

		if (!seen[i * 2] || (k == NN_FILE_CHECKPOINT && p->trainable &&
				     !seen[i * 2 + 1]))
			return ms_errf(err, errlen, MS_EFORMAT,
				       "missing tensor '%s'", p->name);
		if (strstr(p->name, ".var"))
			for (size_t j = 0; j < p->n; j++)
				if (p->w[j] < 0)
					return ms_errf(
						err, errlen, MS_EFORMAT,
						"negative variance in '%s'",
						p->name);
	}
	return MS_OK;
}

int nn_net_parse(const uint8_t *buf, size_t len, int trainable,
		 struct nn_net **out, uint32_t *kind, uint8_t **state,
		 size_t *state_len, char *err, size_t errlen)
{
	struct reader r = {buf, 0, 0};
	struct nn_arch a;
	struct nn_net *net = NULL;
	uint32_t k = 0;
	uint8_t seen[NN_MAX_PARAMS * 2] = {0};
	const uint8_t *st = NULL;
	size_t st_len = 0;
	int rc;

	rc = parse_header(&r, buf, len, &k, &a, err, errlen);
	if (rc)
		return rc;
	rc = nn_net_new(&a, trainable || k == NN_FILE_CHECKPOINT, &net, err,
			errlen);
	if (rc)
		return rc;
	rc = parse_tensors(&r, k, net, seen, &st, &st_len, err, errlen);
	if (!rc)
		rc = check_complete(net, k, seen, err, errlen);
	if (rc)
		goto out_free;
	if (k == NN_FILE_CHECKPOINT && !st) {
		rc = ms_errf(err, errlen, MS_EFORMAT,
			     "checkpoint without state");
		goto out_free;
	}
	if (state) {
		*state = NULL;
		*state_len = 0;
		if (st) {
			*state = malloc(st_len + 1);
			if (!*state) {
				rc = ms_errf(err, errlen, MS_ENOMEM,
					     "out of memory");
				goto out_free;
			}
			memcpy(*state, st, st_len);
			*state_len = st_len;
		}
	}
	if (kind)
		*kind = k;
	*out = net;
	return MS_OK;
out_free:
	nn_net_free(net);
	return rc;
}

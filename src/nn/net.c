/* net.c - the trainable network: architecture checks and presets and the
 * named parameter tensors (net_pass.c runs it). Also the xoshiro256** RNG
 * the trainer uses (seeded, state saved in checkpoints). */
#include <math.h>
#include <string.h>

#include "nn/nn_internal.h"

void nn_rng_seed(struct nn_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++) {
		uint64_t z = (seed += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		r->s[i] = z ^ (z >> 31);
	}
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t nn_rng_next(struct nn_rng *r)
{
	uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

float nn_rng_uniform(struct nn_rng *r)
{
	return (float)(nn_rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

float nn_rng_normal(struct nn_rng *r)
{
	float u = nn_rng_uniform(r), v = nn_rng_uniform(r);

	return sqrtf(-2.0f * logf(1.0f - u)) * cosf(6.2831853f * v);
}

uint32_t nn_rng_below(struct nn_rng *r, uint32_t n)
{
	return (uint32_t)(((nn_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

int nn_arch_check(const struct nn_arch *a, struct nn_shape *shapes, char *err,
		  size_t errlen)
{
	struct nn_shape s;

	if (a->side < 8 || a->side > NN_MAX_SIDE || a->crop < 8 ||
	    a->crop > a->side)
		return ms_errf(err, errlen, MS_EFORMAT,
			       "bad input geometry side=%d crop=%d", a->side,
			       a->crop);
	if (!(a->norm_std > 1e-3f && a->norm_std < 1e3f) ||
	    !(fabsf(a->norm_mean) < 1e3f))
		return ms_errf(err, errlen, MS_EFORMAT, "bad normalisation");
	if (a->n_layers < 1 || a->n_layers > NN_MAX_LAYERS)
		return ms_errf(err, errlen, MS_ELIMIT, "bad layer count %d",
			       a->n_layers);
	s.c = 1;
	s.h = s.w = a->crop;
	shapes[0] = s;
	for (int i = 0; i < a->n_layers; i++) {
		const struct nn_layer_spec *l = &a->layers[i];

		if (l->flags & ~NN_FLAG_BIAS)
			return ms_errf(err, errlen, MS_EFORMAT,
				       "layer %d: unknown flags", i);
		switch (l->type) {
		case NN_LAYER_CONV:
			if (l->out < 1 || l->out > NN_MAX_CHANNELS ||
			    l->k < 1 || l->k > NN_MAX_KERNEL || l->stride < 1 ||
			    l->stride > 4 || l->pad >= l->k ||
			    (int)l->k > s.h + 2 * (int)l->pad)
				return ms_errf(err, errlen, MS_EFORMAT,
					       "layer %d: bad conv", i);
			s.h = (s.h + 2 * (int)l->pad - (int)l->k) /
				      (int)l->stride +
			      1;
			s.w = (s.w + 2 * (int)l->pad - (int)l->k) /
				      (int)l->stride +
			      1;
			s.c = (int)l->out;
			break;
		case NN_LAYER_MAXPOOL:
			if (l->k < 1 || l->k > 4 || l->stride < 1 ||
			    l->stride > 4 || (int)l->k > s.h || (int)l->k > s.w)
				return ms_errf(err, errlen, MS_EFORMAT,
					       "layer %d: bad maxpool", i);
			s.h = (s.h - (int)l->k) / (int)l->stride + 1;
			s.w = (s.w - (int)l->k) / (int)l->stride + 1;
			break;
		case NN_LAYER_BN:
		case NN_LAYER_RELU:
			break;
		case NN_LAYER_DROPOUT:
			if (l->p_milli >= 1000)
				return ms_errf(err, errlen, MS_EFORMAT,
					       "layer %d: bad dropout", i);
			break;
		case NN_LAYER_GAP:
			s.h = s.w = 1;
			break;
		case NN_LAYER_DENSE:
			if (s.h != 1 || s.w != 1 || l->out < 1 ||
			    l->out > NN_MAX_CHANNELS)
				return ms_errf(err, errlen, MS_EFORMAT,
					       "layer %d: bad dense", i);
			s.c = (int)l->out;
			break;
		default:
			return ms_errf(err, errlen, MS_EFORMAT,
				       "layer %d: unknown type %u", i,
				       (unsigned)l->type);
		}
		if ((l->type != NN_LAYER_CONV && l->type != NN_LAYER_DENSE &&
		     (l->flags || l->out)) ||
		    (l->type != NN_LAYER_DROPOUT && l->p_milli))
			return ms_errf(err, errlen, MS_EFORMAT,
				       "layer %d: stray fields", i);
		/* Caps that bound every buffer a loaded model can make us
		 * allocate: activations and im2col scratch per face. */
		if ((size_t)s.c * s.h * s.w > NN_MAX_ACT ||
		    (l->type == NN_LAYER_CONV &&
		     (size_t)shapes[i].c * l->k * l->k * s.h * s.w >
			     NN_MAX_COL))
			return ms_errf(err, errlen, MS_ELIMIT,
				       "layer %d: activations too large", i);
		shapes[i + 1] = s;
	}
	if (s.c != NN_CLASSES || s.h != 1 || s.w != 1)
		return ms_errf(err, errlen, MS_EFORMAT,
			       "net must end in %d classes", NN_CLASSES);
	return MS_OK;
}

static void add(struct nn_arch *a, uint32_t type, uint32_t out, uint32_t k,
		uint32_t stride, uint32_t pad, uint32_t flags, uint32_t p)
{
	struct nn_layer_spec *l = &a->layers[a->n_layers++];

	l->type = type;
	l->out = out;
	l->k = k;
	l->stride = stride;
	l->pad = pad;
	l->flags = flags;
	l->p_milli = p;
}

static void add_conv_bn_relu(struct nn_arch *a, uint32_t c)
{
	add(a, NN_LAYER_CONV, c, 3, 1, 1, 0, 0);
	add(a, NN_LAYER_BN, 0, 0, 0, 0, 0, 0);
	add(a, NN_LAYER_RELU, 0, 0, 0, 0, 0, 0);
}

/* Stages of conv3x3-BN-ReLU blocks separated by 2x2 max pools, then global
 * average pooling, dropout and a dense classifier. */
int nn_arch_preset(const char *name, struct nn_arch *a)
{
	static const struct {
		const char *name;
		int side, crop, stages, convs[4], width[4], drop;
	} presets[] = {
		{"tiny", 48, 44, 2, {1, 1}, {4, 8}, 100},
		{"small", 48, 44, 4, {2, 2, 2, 2}, {16, 32, 64, 128}, 300},
		{"base", 48, 44, 4, {1, 2, 2, 2}, {32, 64, 96, 192}, 400},
		{"wide", 48, 44, 4, {2, 2, 2, 2}, {24, 48, 96, 192}, 400},
		{"large", 48, 44, 4, {1, 2, 2, 2}, {32, 64, 128, 256}, 400},
		{"xl", 48, 44, 4, {2, 2, 2, 2}, {64, 128, 256, 512}, 400},
	};

	for (size_t i = 0; i < MS_ARRAY_LEN(presets); i++) {
		if (strcmp(name, presets[i].name))
			continue;
		memset(a, 0, sizeof(*a));
		a->side = presets[i].side;
		a->crop = presets[i].crop;
		a->norm_mean = 0.5f;
		a->norm_std = 0.25f;
		for (int s = 0; s < presets[i].stages; s++) {
			for (int c = 0; c < presets[i].convs[s]; c++)
				add_conv_bn_relu(a,
						 (uint32_t)presets[i].width[s]);
			if (s + 1 < presets[i].stages)
				add(a, NN_LAYER_MAXPOOL, 0, 2, 2, 0, 0, 0);
		}
		add(a, NN_LAYER_GAP, 0, 0, 0, 0, 0, 0);
		if (presets[i].drop)
			add(a, NN_LAYER_DROPOUT, 0, 0, 0, 0, 0,
			    (uint32_t)presets[i].drop);
		add(a, NN_LAYER_DENSE, NN_CLASSES, 0, 0, 0, NN_FLAG_BIAS, 0);
		return MS_OK;
	}
	return MS_EINVAL;
}

void nn_arch_cost(const struct nn_arch *a, double *macs, size_t *params)
{
	struct nn_shape sh[NN_MAX_LAYERS + 1];
	double m = 0;
	size_t p = 0;

	if (nn_arch_check(a, sh, NULL, 0)) {
		*macs = 0;
		*params = 0;
		return;
	}
	for (int i = 0; i < a->n_layers; i++) {
		const struct nn_layer_spec *l = &a->layers[i];
		size_t w = (size_t)sh[i].c * l->out * l->k * l->k;

		if (l->type == NN_LAYER_CONV) {
			m += (double)w * sh[i + 1].h * sh[i + 1].w;
			p += w + ((l->flags & NN_FLAG_BIAS) ? l->out : 0);
		} else if (l->type == NN_LAYER_DENSE) {
			m += (double)sh[i].c * l->out;
			p += (size_t)sh[i].c * l->out + l->out;
		} else if (l->type == NN_LAYER_BN) {
			p += 2 * (size_t)sh[i].c;
		}
	}
	*macs = m;
	*params = p;
}

static float *param_add(struct nn_net *net, int trainable, int layer,
			const char *suffix, int decay, int ndim,
			const int *dims, float **grad)
{
	struct nn_param *p = &net->params[net->n_params];
	size_t n = 1;

	for (int i = 0; i < ndim; i++) {
		p->dims[i] = dims[i];
		n *= (size_t)dims[i];
	}
	snprintf(p->name, sizeof(p->name), "L%d.%s", layer, suffix);
	p->ndim = ndim;
	p->n = n;
	p->decay = decay;
	p->trainable = trainable && grad;
	p->w = ms_calloc(n, sizeof(float));
	if (p->trainable) {
		p->g = ms_calloc(n, sizeof(float));
		p->m = ms_calloc(n, sizeof(float));
	}
	net->n_params++;
	if (!p->w || (p->trainable && (!p->g || !p->m)))
		return NULL;
	if (grad)
		*grad = p->g;
	return p->w;
}

int nn_net_new(const struct nn_arch *a, int trainable, struct nn_net **out,
	       char *err, size_t errlen)
{
	struct nn_shape sh[NN_MAX_LAYERS + 1];
	struct nn_net *net;
	int rc = nn_arch_check(a, sh, err, errlen);

	if (rc)
		return rc;
	net = calloc(1, sizeof(*net));
	if (!net)
		return ms_errf(err, errlen, MS_ENOMEM, "out of memory");
	net->arch = *a;
	for (int i = 0; i < a->n_layers; i++) {
		struct nn_layer *l = &net->layers[i];
		int c = sh[i].c, o = (int)a->layers[i].out,
		    k = (int)a->layers[i].k;
		int dims[4] = {o, c, k, k}, one[1] = {o}, cc[1] = {c};

		l->s = a->layers[i];
		l->in = sh[i];
		l->out = sh[i + 1];
		switch (l->s.type) {
		case NN_LAYER_CONV:
		case NN_LAYER_DENSE:
			l->w = param_add(net, trainable, i, "w", 1,
					 l->s.type == NN_LAYER_CONV ? 4 : 2,
					 dims, &l->gw);
			if (!l->w)
				goto out_nomem;
			if (l->s.flags & NN_FLAG_BIAS) {
				l->b = param_add(net, trainable, i, "b", 0, 1,
						 one, &l->gb);
				if (!l->b)
					goto out_nomem;
			}
			break;
		case NN_LAYER_BN:
			l->gamma = param_add(net, trainable, i, "gamma", 0, 1,
					     cc, &l->ggamma);
			l->beta = param_add(net, trainable, i, "beta", 0, 1, cc,
					    &l->gbeta);
			l->rmean = param_add(net, 0, i, "mean", 0, 1, cc, NULL);
			l->rvar = param_add(net, 0, i, "var", 0, 1, cc, NULL);
			if (!l->gamma || !l->beta || !l->rmean || !l->rvar)
				goto out_nomem;
			for (int j = 0; j < c; j++)
				l->gamma[j] = l->rvar[j] = 1.0f;
			break;
		default:
			break;
		}
	}
	*out = net;
	return MS_OK;
out_nomem:
	nn_net_free(net);
	return ms_errf(err, errlen, MS_ENOMEM, "out of memory");
}

void nn_net_free(struct nn_net *net)
{
	if (!net)
		return;
	for (int i = 0; i < net->n_params; i++) {
		if (!net->replica || !net->params[i].trainable)
			free(net->params[i].w);
		free(net->params[i].g);
		free(net->params[i].m);
	}
	free(net);
}

static float *remap(const struct nn_net *from, const struct nn_net *to,
		    float *p)
{
	for (int i = 0; p && i < from->n_params; i++) {
		if (p == from->params[i].w)
			return to->params[i].w;
		if (p == from->params[i].g)
			return to->params[i].g;
	}
	return p;
}

int nn_net_replica(const struct nn_net *master, struct nn_net **out)
{
	struct nn_net *r = malloc(sizeof(*r));

	if (!r)
		return MS_ENOMEM;
	memcpy(r, master, sizeof(*r));
	r->replica = 1;
	for (int i = 0; i < r->n_params; i++) {
		struct nn_param *p = &r->params[i];

		p->m = NULL;
		p->g = NULL;
		if (p->trainable) {
			p->g = ms_calloc(p->n, sizeof(float));
		} else {
			p->w = ms_mallocarray(p->n, sizeof(float));
			if (p->w)
				memcpy(p->w, master->params[i].w,
				       p->n * sizeof(float));
		}
		if (!p->w || (p->trainable && !p->g)) {
			r->n_params = i + 1;
			nn_net_free(r);
			return MS_ENOMEM;
		}
	}
	for (int i = 0; i < r->arch.n_layers; i++) {
		struct nn_layer *l = &r->layers[i];
		float **f[] = {&l->w,	  &l->b,    &l->gw,	&l->gb,
			       &l->gamma, &l->beta, &l->ggamma, &l->gbeta,
			       &l->rmean, &l->rvar};

		for (size_t j = 0; j < MS_ARRAY_LEN(f); j++)
			*f[j] = remap(master, r, *f[j]);
	}
	*out = r;
	return MS_OK;
}

void nn_net_init_weights(struct nn_net *net, struct nn_rng *rng)
{
	for (int i = 0; i < net->arch.n_layers; i++) {
		struct nn_layer *l = &net->layers[i];
		size_t fan_in, n;
		float sd;

		if (l->s.type != NN_LAYER_CONV && l->s.type != NN_LAYER_DENSE)
			continue;
		fan_in = (size_t)l->in.c *
			 (l->s.type == NN_LAYER_CONV ? l->s.k * l->s.k : 1);
		n = (size_t)l->out.c * fan_in;
		sd = sqrtf((l->s.type == NN_LAYER_CONV ? 2.0f : 1.0f) /
			   (float)fan_in);
		for (size_t j = 0; j < n; j++)
			l->w[j] = sd * nn_rng_normal(rng);
		if (l->b)
			memset(l->b, 0, sizeof(float) * l->out.c);
	}
}

struct nn_param *nn_net_param(struct nn_net *net, const char *name)
{
	for (int i = 0; i < net->n_params; i++)
		if (strcmp(net->params[i].name, name) == 0)
			return &net->params[i];
	return NULL;
}

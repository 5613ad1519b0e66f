/* data.c - GoEmotions splits as training sets: the label list, the Ekman
 * grouping (JSON) onto the seven FER classes, and the TSV comments turned
 * into hashed features with soft targets. Used by the trainer and
 * `moodsync eval-text`; the server never reads these files. */
#include <cjson/cJSON.h>
#include <string.h>

#include "moodsync/text.h"

#define MAX_EMOTIONS 64
#define MAX_NAME 32
#define MAX_TSV (64u << 20)
#define MAX_SMALL (64u << 10)

/* Ekman names in the mapping file, in FER class order. */
static const char *const ekman_names[TXT_CLASSES - 1] = {
	"anger", "disgust", "fear", "joy", "sadness", "surprise",
};

struct labels {
	int n;
	char name[MAX_EMOTIONS][MAX_NAME];
	uint8_t cls[MAX_EMOTIONS]; /* FER class of each emotion */
};

static int read_names(const char *path, struct labels *l, char *err,
		      size_t errlen)
{
	uint8_t *data;
	size_t len, i = 0;
	int rc = ms_file_read(path, MAX_SMALL, &data, &len, err, errlen);

	if (rc)
		return rc;
	l->n = 0;
	while (i < len) {
		size_t e = i;

		while (e < len && data[e] != '\n')
			e++;
		if (e > i && data[e - 1] == '\r')
			e--;
		if (e == i || e - i >= MAX_NAME || l->n >= MAX_EMOTIONS) {
			rc = ms_errf(err, errlen, MS_EFORMAT,
				     "%s: bad label line %d", path, l->n + 1);
			goto out;
		}
		memcpy(l->name[l->n], data + i, e - i);
		l->name[l->n][e - i] = '\0';
		l->cls[l->n] = TXT_CLASSES - 1; /* neutral unless mapped */
		l->n++;
		i = e;
		while (i < len && (data[i] == '\n' || data[i] == '\r'))
			i++;
	}
	if (l->n == 0)
		rc = ms_errf(err, errlen, MS_EFORMAT, "%s: no labels", path);
out:
	free(data);
	return rc;
}

static int read_mapping(const char *path, struct labels *l, char *err,
			size_t errlen)
{
	uint8_t *data;
	size_t len;
	cJSON *root;
	int rc = ms_file_read(path, MAX_SMALL, &data, &len, err, errlen);

	if (rc)
		return rc;
	root = cJSON_ParseWithLength((const char *)data, len);
	free(data);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return ms_errf(err, errlen, MS_EFORMAT, "%s: not a JSON object",
			       path);
	}
	for (int c = 0; c < TXT_CLASSES - 1; c++) {
		const cJSON *arr = cJSON_GetObjectItem(root, ekman_names[c]);
		const cJSON *it;

		if (!cJSON_IsArray(arr)) {
			rc = ms_errf(err, errlen, MS_EFORMAT,
				     "%s: no list for '%s'", path,
				     ekman_names[c]);
			break;
		}
		cJSON_ArrayForEach(it, arr)
		{
			int k;

			for (k = 0; k < l->n; k++)
				if (cJSON_IsString(it) &&
				    !strcmp(l->name[k], it->valuestring))
					break;
			if (k == l->n) {
				rc = ms_errf(err, errlen, MS_EFORMAT,
					     "%s: unknown emotion in '%s'",
					     path, ekman_names[c]);
				goto out;
			}
			l->cls[k] = (uint8_t)c;
		}
	}
out:
	cJSON_Delete(root);
	return rc;
}

/* Undoes CSV quoting in place ("a ""b""" -> a "b"); returns the length. */
static size_t unquote(char *s, size_t n)
{
	size_t o = 0;

	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return n;
	for (size_t i = 1; i + 1 < n; i++) {
		s[o++] = s[i];
		if (s[i] == '"' && i + 2 < n && s[i + 1] == '"')
			i++;
	}
	return o;
}

/* Parses "3,12" into the example's gold bits, target and first class. */
static int parse_labels(const char *p, size_t n, const struct labels *l,
			struct txt_example *ex)
{
	int count[TXT_CLASSES] = {0}, k = 0, any = 0;
	size_t i = 0;

	while (i < n) {
		int64_t id;
		size_t e = i;

		while (e < n && p[e] != ',')
			e++;
		if (ms_parse_i64_n(p + i, e - i, 0, l->n - 1, &id))
			return MS_EFORMAT;
		if (!any++)
			ex->first = l->cls[id];
		count[l->cls[id]] = 1;
		i = e + 1;
	}
	if (!any)
		return MS_EFORMAT;
	ex->gold = 0;
	for (int c = 0; c < TXT_CLASSES; c++)
		if (count[c]) {
			ex->gold |= (uint8_t)(1u << c);
			k++;
		}
	for (int c = 0; c < TXT_CLASSES; c++)
		ex->target[c] = count[c] ? 1.f / (float)k : 0.f;
	return MS_OK;
}

/* One TSV line: text TAB labels TAB id. */
static int load_line(char *line, size_t n, const struct labels *l,
		     const struct txt_config *c, struct txt_tokens *tok,
		     uint32_t *feat, struct txt_example *ex)
{
	char *t1 = memchr(line, '\t', n), *t2;
	size_t tlen;

	if (!t1)
		return MS_EFORMAT;
	t2 = memchr(t1 + 1, '\t', n - (size_t)(t1 + 1 - line));
	if (!t2 || parse_labels(t1 + 1, (size_t)(t2 - t1 - 1), l, ex))
		return MS_EFORMAT;
	tlen = unquote(line, (size_t)(t1 - line));
	txt_tokenize(line, tlen, (int)c->neg_window, tok);
	ex->nfeat = txt_features(c, tok, feat, TXT_MAX_FEATURES);
	ex->feat = ms_mallocarray((size_t)MS_MAX(ex->nfeat, 1), sizeof(*feat));
	if (!ex->feat)
		return MS_ENOMEM;
	memcpy(ex->feat, feat, (size_t)ex->nfeat * sizeof(*feat));
	return MS_OK;
}

static int load_lines(char *data, size_t len, const char *tsv,
		      const struct labels *l, const struct txt_config *c,
		      struct txt_set *out, char *err, size_t errlen)
{
	struct txt_tokens *tok = malloc(sizeof(*tok));
	uint32_t *feat = ms_mallocarray(TXT_MAX_FEATURES, sizeof(*feat));
	size_t lines = 0, i = 0;
	int rc = MS_OK;

	for (size_t k = 0; k < len; k++)
		lines += data[k] == '\n';
	out->ex = ms_calloc(lines + 1, sizeof(*out->ex));
	if (!tok || !feat || !out->ex) {
		rc = ms_errf(err, errlen, MS_ENOMEM, "out of memory");
		goto out;
	}
	while (i < len) {
		size_t e = i;

		while (e < len && data[e] != '\n')
			e++;
		if (e > i) {
			rc = load_line(data + i, e - i, l, c, tok, feat,
				       &out->ex[out->n]);
			if (rc) {
				ms_errf(err, errlen, rc, "%s: line %zu: %s",
					tsv, out->n + 1,
					rc == MS_ENOMEM ? "out of memory"
							: "malformed");
				goto out;
			}
			out->n++;
		}
		i = e + 1;
	}
	if (out->n == 0)
		rc = ms_errf(err, errlen, MS_EFORMAT, "%s: no comments", tsv);
out:
	free(tok);
	free(feat);
	return rc;
}

int txt_set_load_goemotions(const char *tsv, const char *emotions,
			    const char *mapping, const struct txt_config *c,
			    struct txt_set *out, char *err, size_t errlen)
{
	struct labels l;
	struct txt_set set = {0};
	uint8_t *data = NULL;
	size_t len;
	int rc;

	rc = txt_config_check(c, err, errlen);
	if (!rc)
		rc = read_names(emotions, &l, err, errlen);
	if (!rc)
		rc = read_mapping(mapping, &l, err, errlen);
	if (!rc)
		rc = ms_file_read(tsv, MAX_TSV, &data, &len, err, errlen);
	if (rc)
		return rc;
	rc = load_lines((char *)data, len, tsv, &l, c, &set, err, errlen);
	free(data);
	if (rc) {
		txt_set_release(&set);
		return rc;
	}
	*out = set;
	return MS_OK;
}

void txt_set_release(struct txt_set *s)
{
	if (!s->ex)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->ex[i].feat);
	free(s->ex);
	s->ex = NULL;
	s->n = 0;
}

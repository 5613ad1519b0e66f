/* assets.h - the web page's files, embedded at build time by
 * tools/embed.sh into a NULL-terminated table. */
#ifndef MOODSYNC_SERVER_ASSETS_H
#define MOODSYNC_SERVER_ASSETS_H

#include <stddef.h>

struct srv_asset {
	const char *path;	   /* "/index.html" */
	const char *type;	   /* Content-Type */
	const unsigned char *data; /* file bytes */
	size_t len;		   /* bytes */
};

extern const struct srv_asset srv_assets[];

#endif

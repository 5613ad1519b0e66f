/* fuzz_userdirs.c - libFuzzer harness for the user-dirs.dirs parser
 * (src/music/library_dirs.c): any bytes as the file; an answer must be an
 * absolute, terminated path that fits the output buffer. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "moodsync/library.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[64];

	if (music_user_dirs_parse((const char *)data, size, "/home/user", out,
				  sizeof(out)) == MS_OK) {
		if (out[0] != '/' || strnlen(out, sizeof(out)) >= sizeof(out))
			__builtin_trap();
	}
	return 0;
}

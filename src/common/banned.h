/* banned.h - functions MoodSync code must not call (after git's banned.h).
 * Included through prelude.h into every .c file (Makefile -include), so a use
 * anywhere is a compile error that names the safer replacement. */
#ifndef MOODSYNC_BANNED_H
#define MOODSYNC_BANNED_H

#define MS_BANNED(func) sorry_##func##_is_banned

#undef strcpy
#define strcpy(x, y) MS_BANNED(strcpy) /* use snprintf or ms_buf */
#undef strcat
#define strcat(x, y) MS_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) MS_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) MS_BANNED(strncat)
#undef sprintf
#define sprintf(...) MS_BANNED(sprintf) /* use snprintf */
#undef vsprintf
#define vsprintf(...) MS_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) MS_BANNED(strtok) /* use strtok_r or a real parser */
#undef atoi
#define atoi(x) MS_BANNED(atoi) /* use ms_parse_int */
#undef atol
#define atol(x) MS_BANNED(atol)
#undef atoll
#define atoll(x) MS_BANNED(atoll)
#undef atof
#define atof(x) MS_BANNED(atof) /* use ms_parse_double */
#undef gets
#define gets(x) MS_BANNED(gets)
#undef localtime
#define localtime(x) MS_BANNED(localtime) /* use gmtime_r */
#undef gmtime
#define gmtime(x) MS_BANNED(gmtime)
#undef ctime
#define ctime(x) MS_BANNED(ctime)
#undef asctime
#define asctime(x) MS_BANNED(asctime)

#endif

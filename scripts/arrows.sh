#!/bin/sh
# arrows.sh - checks that includes in src/ point one way (docs/architecture.md):
# a component includes only the public headers (include/moodsync/*.h) of the
# components below it, and never another component's private header
# (src/<other>/...). Prints each wrong include and exits 1 if there is one.
set -eu
cd "$(dirname "$0")/.."

# component: the components whose public headers it may include
allowed() {
	case $1 in
	common) echo "common" ;;
	vision) echo "common vision" ;;
	nn) echo "common nn" ;;
	audio) echo "common audio" ;;
	text) echo "common text" ;;
	pipeline) echo "common vision nn pipeline" ;;
	store) echo "common store" ;;
	music) echo "common audio store music" ;;
	server) echo "common vision nn pipeline audio text store music server" ;;
	cli) echo "*" ;;
	*) echo "" ;;
	esac
}

# public header name -> the component that owns it (a header named after
# no component, e.g. a second header of one, is not checked)
owner() {
	case $1 in
	spotify | spotify_service | affect) echo music ;;
	*) echo "$1" ;;
	esac
}

bad=0
for f in $(find src -name '*.[ch]' | sort); do
	comp=$(echo "$f" | cut -d/ -f2)
	case $comp in *.c | *.h) comp=cli ;; esac # src/main.c sits with cli
	ok=$(allowed "$comp")
	[ "$ok" = "*" ] && continue
	if [ -z "$ok" ]; then
		echo "arrows: warning: $f: add component '$comp' to scripts/arrows.sh" >&2
		continue
	fi
	for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
		case $inc in
		moodsync/*.h)
			h=$(basename "$inc" .h)
			o=$(owner "$h")
			[ -n "$(allowed "$o")" ] || continue # not a component's name
			case " $ok " in *" $o "*) ;; *)
				echo "arrows: $f includes $inc: $comp -> $o runs against the arrows" >&2
				bad=1 ;;
			esac ;;
		"$comp"/*) ;;
		*/*)
			echo "arrows: $f includes $inc: another component's private header" >&2
			bad=1 ;;
		esac
	done
done
[ "$bad" -eq 0 ] && echo "arrows: every include in src/ points down"
exit "$bad"

# funclen.awk - lengths of the C functions in the files given, one line
# each: "LINES FILE:LINE NAME". A function is a line at column 0 that has a
# "(" and does not end in ";", whose body opens with "{" at column 0 and
# ends at the next "}" at column 0 (the house style); its length counts
# from that first line to the closing brace.
#   awk -f scripts/funclen.awk $(git ls-files 'src/*.c') | sort -rn | head -5
FNR == 1 { name = ""; start = 0; inbody = 0 }
/^[A-Za-z_].*\(/ && !/;[ \t]*$/ && !inbody {
	sig = $0
	sub(/\(.*/, "", sig)
	n = split(sig, w, /[ \t*]+/)
	name = w[n]
	start = FNR
}
/^\{/ && name != "" && !inbody { inbody = 1 }
/^\}/ && inbody {
	printf "%d %s:%d %s\n", FNR - start + 1, FILENAME, start, name
	inbody = 0
	name = ""
}

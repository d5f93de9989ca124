# Flattens the YAML subset of NoCloud seeds into "path<TAB>value" lines (busybox awk and gawk).
#   users:                          users.0.name<TAB>alice
#     - name: alice         ==>     users.0.ssh_authorized_keys.0<TAB>ssh-ed25519 AAAA... alice@x
#       ssh_authorized_keys:        chpasswd.expire<TAB>false
#         - "ssh-ed25519 AAAA... alice@x"
# Supported: block maps; block lists (indented or at the parent key's indent); lists of maps;
# plain, "double-quoted" (\" \\ escapes) and 'single-quoted' scalars; flow lists of scalars
# ([a, "b"]); comments and the #cloud-config header; a key with no value gives an empty value.
# Not supported (the platform never writes them): multi-line scalars (| >), flow maps, anchors,
# tags, quoted keys, tab indentation. List items are numbered from 0.
function emit(p, v) { print p "\t" v }
function join(a, b) { return a == "" ? b : a "." b }
function unquote(s,   r, i, c) {
  if (s ~ /^"/) {
    r = ""
    for (i = 2; i <= length(s); i++) {
      c = substr(s, i, 1)
      if (c == "\\") { i++; c = substr(s, i, 1) }
      else if (c == "\"") break
      r = r c
    }
    return r
  }
  if (s ~ /^'/) {
    s = substr(s, 2)
    sub(/'[ \t]*(#.*)?$/, "", s)
    gsub(/''/, "'", s)
    return s
  }
  sub(/[ \t]+#.*$/, "", s)
  sub(/[ \t]+$/, "", s)
  return s
}
function flow(p, s,   n, parts, j, v, k) {
  sub(/^\[[ \t]*/, "", s)
  sub(/\][ \t]*(#.*)?$/, "", s)
  n = split(s, parts, ",")
  k = 0
  for (j = 1; j <= n; j++) {
    v = parts[j]
    sub(/^[ \t]+/, "", v)
    sub(/[ \t]+$/, "", v)
    if (v != "") emit(join(p, k++), unquote(v))
  }
}
function value(p, v) {
  if (v ~ /^\[/) flow(p, v)
  else emit(p, unquote(v))
}
function handle(i, c,   isitem, rest, n, p, k, v) {
  isitem = (c ~ /^-( |$)/)
  # A key with no value: the next line says whether it opens a map or a list (or stays empty).
  if (kind[d] == "pend") {
    if (i > ind[d] || (isitem && i == ind[d] && !pitem[d])) {
      kind[d] = isitem ? "list" : "map"
      ind[d] = i
      idx[d] = -1
    } else {
      emit(path[d], "")
      d--
    }
  }
  while (d > 0 && (ind[d] > i || (ind[d] == i && kind[d] == "list" && !isitem))) d--
  if (isitem) {
    if (kind[d] != "list" || ind[d] != i) { bad(); return }
    idx[d]++
    p = join(path[d], idx[d])
    rest = substr(c, 2)
    match(rest, /^ */)
    n = RLENGTH
    rest = substr(rest, n + 1)
    if (rest == "" || rest ~ /^#/) {
      d++; kind[d] = "pend"; ind[d] = i; path[d] = p; pitem[d] = 1
    } else if (rest ~ /^[A-Za-z0-9_.-]+:( |$)/) {
      d++; kind[d] = "map"; ind[d] = i + 1 + n; path[d] = p
      handle(ind[d], rest)
    } else {
      value(p, rest)
    }
    return
  }
  if (kind[d] != "map" || ind[d] != i || c !~ /^[A-Za-z0-9_.-]+:( |$)/) { bad(); return }
  k = c
  sub(/:.*/, "", k)
  v = substr(c, length(k) + 2)
  sub(/^[ \t]+/, "", v)
  if (v == "" || v ~ /^#/) {
    d++; kind[d] = "pend"; ind[d] = i; path[d] = join(path[d - 1], k); pitem[d] = 0
  } else {
    value(join(path[d], k), v)
  }
}
function bad() { printf "nocloud-yaml: line %d not understood, ignored: %s\n", NR, $0 > "/dev/stderr" }
BEGIN { d = 0; kind[0] = "map"; ind[0] = 0; path[0] = "" }
{
  line = $0
  sub(/\r$/, "", line)
  if (line ~ /^[ ]*(#|$)/ || line ~ /^(---|\.\.\.)[ ]*$/) next
  match(line, /^ */)
  handle(RLENGTH, substr(line, RLENGTH + 1))
}
END { if (kind[d] == "pend") emit(path[d], "") }

/* Path redirection (RestartPlan.redirect): the table of from -> to prefixes and the
 * mapping of one path name. The table lives in the agent's static memory, so it is
 * inherited by fork and saved in every image; the restart entry adds the plan's
 * redirects (restart.c), an exec'd child gets it in STASIS_REDIRECT (execwarn.c).
 * Text form, everywhere: one "from<TAB>to\n" line per redirect.
 *
 * Mapping a path neither allocates nor calls libc (the wrappers may run in a signal
 * handler or a vfork child): the caller passes a buffer of STASIS_REDIR_PATH bytes. */
#include "agent.h"
#include "stasis/rawsys.h"

struct redir {
    uint32_t flen, tlen;
    char from[STASIS_REDIR_PATH];
    char to[STASIS_REDIR_PATH];
};

static struct redir g_redir[STASIS_REDIR_MAX];
int g_nredir;
/* one bit per hash of every component of every `from`: a relative path whose first
 * component has no bit here cannot lead into a redirected path (no getcwd needed) */
static uint64_t g_comp_mask;

static unsigned comp_bit(const char *c, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)c[i]) * 16777619u;
    return h & 63;
}

static void update_mask(void)
{
    g_comp_mask = 0;
    for (int i = 0; i < g_nredir; i++) {
        const char *f = g_redir[i].from;
        for (size_t k = 0; f[k];) {
            while (f[k] == '/') k++;
            size_t s = k;
            while (f[k] && f[k] != '/') k++;
            if (k > s) g_comp_mask |= 1ull << comp_bit(f + s, k - s);
        }
    }
}

/* path[0..plen) is prefix[0..n) or below it; the cheap tests first (the boundary,
 * then from the end: paths under one directory differ at their ends) */
static int is_under(const char *path, size_t plen, const char *prefix, size_t n)
{
    if (plen < n || (plen > n && path[n] != '/')) return 0;
    for (size_t i = n; i-- > 0;)
        if (path[i] != prefix[i]) return 0;
    return 1;
}

/* to + rest into out (cap bytes); 0, or -1 if it does not fit */
static int splice(char *out, size_t cap, const char *to, size_t tlen, const char *rest, size_t rlen)
{
    if (tlen + rlen + 1 > cap) return -1;
    r_memcpy(out, to, tlen);
    r_memcpy(out + tlen, rest, rlen);
    out[tlen + rlen] = 0;
    return 0;
}

/* the most specific rule covering path[0..plen) (the table is kept longest first) */
static const struct redir *lookup(const char *path, size_t plen)
{
    for (int i = 0; i < g_nredir; i++)
        if (is_under(path, plen, g_redir[i].from, g_redir[i].flen)) return &g_redir[i];
    return 0;
}

static void remove_at(int i)
{
    for (int j = i; j + 1 < g_nredir; j++) g_redir[j] = g_redir[j + 1];
    g_nredir--;
}

/* keep the table longest `from` first */
static void insert_sorted(const struct redir *r)
{
    int i = g_nredir;
    while (i > 0 && g_redir[i - 1].flen < r->flen) {
        g_redir[i] = g_redir[i - 1];
        i--;
    }
    g_redir[i] = *r;
    g_nredir++;
}

static size_t trim(const char *p, size_t n)
{
    while (n > 1 && p[n - 1] == '/') n--;
    return n;
}

int stasis_redirect_add(const char *from, size_t flen, const char *to, size_t tlen)
{
    flen = trim(from, flen);
    tlen = trim(to, tlen);
    if (flen < 2 || tlen < 1 || from[0] != '/' || to[0] != '/' || flen >= STASIS_REDIR_PATH ||
        tlen >= STASIS_REDIR_PATH)
        return -1;
    struct redir n;
    n.flen = (uint32_t)flen;
    r_memcpy(n.from, from, flen);
    n.from[flen] = 0;
    /* a target that an existing rule moves goes where that rule says */
    const struct redir *via = lookup(to, tlen);
    if (via) {
        if (splice(n.to, sizeof n.to, via->to, via->tlen, to + via->flen, tlen - via->flen) < 0) return -1;
    } else if (splice(n.to, sizeof n.to, to, tlen, "", 0) < 0) {
        return -1;
    }
    n.tlen = (uint32_t)r_strlen(n.to);
    /* existing rules whose target the new one moves follow it; identities go */
    for (int i = 0; i < g_nredir; i++) {
        struct redir *e = &g_redir[i];
        if (is_under(e->to, e->tlen, n.from, n.flen)) {
            char moved[STASIS_REDIR_PATH];
            if (splice(moved, sizeof moved, n.to, n.tlen, e->to + n.flen, e->tlen - n.flen) < 0) return -1;
            e->tlen = (uint32_t)r_strlen(moved);
            r_memcpy(e->to, moved, e->tlen + 1);
        }
    }
    for (int i = g_nredir - 1; i >= 0; i--)
        if (r_streq(g_redir[i].from, n.from) ||
            (g_redir[i].flen == g_redir[i].tlen && r_streq(g_redir[i].from, g_redir[i].to)))
            remove_at(i);
    if (!(n.flen == n.tlen && r_streq(n.from, n.to))) {
        if (g_nredir >= STASIS_REDIR_MAX) {
            update_mask();
            return -1;
        }
        insert_sorted(&n);
    }
    update_mask();
    return 0;
}

int stasis_redirect_parse(const char *text, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t s = i, tab = 0;
        while (i < len && text[i] != '\n') {
            if (text[i] == '\t' && !tab) tab = i;
            i++;
        }
        if (i > s) {
            if (!tab) return -1;
            if (stasis_redirect_add(text + s, tab - s, text + tab + 1, i - tab - 1) < 0) return -1;
        }
        i++;
    }
    return 0;
}

size_t stasis_redirect_text(char *buf, size_t cap)
{
    size_t n = 0;
    for (int i = 0; i < g_nredir; i++) {
        const struct redir *r = &g_redir[i];
        if (n + r->flen + r->tlen + 3 > cap) return 0;
        r_memcpy(buf + n, r->from, r->flen);
        n += r->flen;
        buf[n++] = '\t';
        r_memcpy(buf + n, r->to, r->tlen);
        n += r->tlen;
        buf[n++] = '\n';
    }
    if (n) buf[n - 1] = 0; /* no newline after the last */
    return n ? n - 1 : 0;
}

size_t stasis_redirect_text_size(void)
{
    size_t n = 1;
    for (int i = 0; i < g_nredir; i++) n += g_redir[i].flen + g_redir[i].tlen + 2;
    return n;
}

/* lexical normalization of an absolute path in place: "//", "/./", "/.." */
static size_t normalize(char *p)
{
    size_t o = 0, i = 0;
    while (p[i]) {
        while (p[i] == '/') i++;
        if (!p[i]) break;
        size_t s = i;
        while (p[i] && p[i] != '/') i++;
        size_t n = i - s;
        if (n == 1 && p[s] == '.') continue;
        if (n == 2 && p[s] == '.' && p[s + 1] == '.') {
            while (o > 0 && p[o - 1] != '/') o--;
            if (o > 0) o--;
            continue;
        }
        p[o++] = '/';
        for (size_t k = 0; k < n; k++) p[o++] = p[s + k];
    }
    if (!o) p[o++] = '/';
    p[o] = 0;
    return o;
}

static int needs_normalizing(const char *p)
{
    for (size_t i = 0; p[i]; i++)
        if (p[i] == '/' &&
            (p[i + 1] == '/' || (p[i + 1] == '.' && (p[i + 2] == '/' || !p[i + 2] ||
                                                     (p[i + 2] == '.' && (p[i + 3] == '/' || !p[i + 3]))))))
            return 1;
    return 0;
}

/* can a relative path whose first component is c[0..n) reach a redirected path? */
static int may_match_relative(const char *c, size_t n)
{
    if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) return 1;
    if (!((g_comp_mask >> comp_bit(c, n)) & 1)) return 0;
    for (int i = 0; i < g_nredir; i++) { /* the bit may be another name's */
        const char *f = g_redir[i].from;
        for (size_t k = 0; k + n < g_redir[i].flen; k++)
            if (f[k] == '/' && (f[k + n + 1] == '/' || f[k + n + 1] == 0)) {
                size_t j = 0;
                while (j < n && f[k + 1 + j] == c[j]) j++;
                if (j == n) return 1;
            }
    }
    return 0;
}

static const char *apply(const char *path, size_t plen, char *buf, const char *orig)
{
    const struct redir *r = lookup(path, plen);
    if (!r) return orig;
    if (splice(buf, STASIS_REDIR_PATH, r->to, r->tlen, path + r->flen, plen - r->flen) < 0) return orig;
    return buf;
}

const char *stasis_redirect(const char *path, char *buf)
{
    if (!path || !path[0] || !g_nredir) return path;
    if (path[0] == '/') {
        size_t n = 0;
        int odd = 0; /* "//" or "/." somewhere: normalize before giving up */
        for (char ch; (ch = path[n]); n++)
            if (ch == '/' && (path[n + 1] == '/' || path[n + 1] == '.')) odd = 1;
        const char *out = apply(path, n, buf, path);
        if (out != path || !odd || !needs_normalizing(path) || n >= STASIS_REDIR_PATH) return out;
        char norm[STASIS_REDIR_PATH];
        r_memcpy(norm, path, n + 1);
        return apply(norm, normalize(norm), buf, path);
    }
    size_t c = 0;
    while (path[c] && path[c] != '/') c++;
    if (!may_match_relative(path, c)) return path;
    char full[STASIS_REDIR_PATH];
    long len = rsys2(SYS_getcwd, full, sizeof full);
    if (len <= 0) return path;
    size_t cl = r_strlen(full), pl = r_strlen(path);
    if (cl + pl + 2 > sizeof full) return path;
    full[cl] = '/';
    r_memcpy(full + cl + 1, path, pl + 1);
    return apply(full, normalize(full), buf, path);
}

int stasis_redirect_reverse(char *path, size_t cap)
{
    size_t plen = r_strlen(path);
    for (int i = 0; i < g_nredir; i++) {
        const struct redir *r = &g_redir[i];
        if (!is_under(path, plen, r->to, r->tlen)) continue;
        char out[STASIS_REDIR_PATH];
        if (splice(out, sizeof out, r->from, r->flen, path + r->tlen, plen - r->tlen) < 0) return 0;
        size_t n = r_strlen(out);
        if (n + 1 > cap) return -1;
        r_memcpy(path, out, n + 1);
        return 1;
    }
    return 0;
}

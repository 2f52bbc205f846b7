/*
 * Gogo quoting rule (checked against org.apache.felix.gogo.runtime 1.1.6):
 * every argument becomes one single-quoted word, and each ' inside it becomes '\''
 * (close the quote, a backslash-escaped quote, reopen). Why this is exact:
 *  - Tokenizer.next() skips a '...' region with BaseTokenizer.skipQuote(), which
 *    ends at the next ' and interprets nothing inside (no \, $, {, ;, |, <, >, #,
 *    newline handling), and a backslash outside quotes escapes the next character.
 *    A word starting with ' can never be a comment, closure, redirection or operator.
 *  - Expander.doExpand() copies '...' regions untouched (no $var, ${...}, %(...)),
 *    expandBraces() and generateFileNames() skip quoted text, and unquote() then
 *    strips the quotes and turns \' into '.
 *  - Closure.eval() converts a word to null/true/false/a number only when expansion
 *    left it unchanged; a quoted word always changes, so it arrives as a String
 *    ('' arrives as the empty String).
 */
#include "gogo.h"

#include <stdlib.h>
#include <string.h>

static const char QUOTE_ESC[] = "'\\''";

int gogo_is_command_name(const char *s)
{
    if (!*s || *s == '-' || *s == '.') return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.'))
            return 0;
    }
    return 1;
}

static size_t quoted_len(const char *arg)
{
    size_t n = 2;
    for (; *arg; arg++) n += *arg == '\'' ? sizeof QUOTE_ESC - 1 : 1;
    return n;
}

static char *append_plain(char *out, const char *s)
{
    size_t n = strlen(s);
    memcpy(out, s, n);
    return out + n;
}

static char *append_quoted(char *out, const char *arg)
{
    *out++ = '\'';
    for (; *arg; arg++) {
        if (*arg == '\'') {
            memcpy(out, QUOTE_ESC, sizeof QUOTE_ESC - 1);
            out += sizeof QUOTE_ESC - 1;
        } else {
            *out++ = *arg;
        }
    }
    *out++ = '\'';
    return out;
}

char *gogo_command_line(const char *scope, const char *cmd, char *const *args, int nargs)
{
    size_t size = strlen(scope) + 1 + strlen(cmd) + 1;
    for (int i = 0; i < nargs; i++) size += 1 + quoted_len(args[i]);
    char *line = malloc(size);
    if (!line) return NULL;
    char *p = line;
    p = append_plain(p, scope);
    *p++ = ':';
    p = append_plain(p, cmd);
    for (int i = 0; i < nargs; i++) {
        *p++ = ' ';
        p = append_quoted(p, args[i]);
    }
    *p = '\0';
    return line;
}

/* module.c — finding, reading and parsing rule files; resolving imports.
 *
 * Search order for `import a.b;` (LANGUAGE 3, 9): every -I directory, then the
 * built-in standard library.  `import "x.mtcr";` is relative to the importing
 * file (within the built-in tree for built-in files).  Each module loads once
 * (by name); cycles are allowed.  The declaration order is the depth-first
 * post-order of imports, so imported modules come first, in import order.
 */
#include "compiler.h"
#include "embed.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *cm_read_file(ar_arena *a, const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || S_ISDIR(st.st_mode)) {
        fclose(f);
        errno = EISDIR;
        return NULL;
    }
    size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, n = 0;
    char *buf = mtcr_xmalloc(cap);
    if (!buf) {
        fclose(f);
        errno = ENOMEM;
        return NULL;
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = mtcr_xrealloc(buf, cap * 2);
            if (!nb) {
                mtcr_xfree(buf);
                fclose(f);
                errno = ENOMEM;
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        mtcr_xfree(buf);
        errno = EIO;
        return NULL;
    }
    char *out = ar_strndup(a, buf, n);
    mtcr_xfree(buf);
    if (len)
        *len = n;
    return out;
}

static int push_mod(cm_module ***arr, size_t *n, size_t *cap, cm_module *m)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        cm_module **na = mtcr_xrealloc(*arr, nc * sizeof *na);
        if (!na)
            return -1;
        *arr = na;
        *cap = nc;
    }
    (*arr)[(*n)++] = m;
    return 0;
}

cm_module *cm_find_module(const cm_loader *L, const char *name)
{
    for (size_t i = 0; i < L->nall; i++)
        if (L->all[i]->name && strcmp(L->all[i]->name, name) == 0)
            return L->all[i];
    return NULL;
}

static const emb_file *find_embedded(const char *rel)
{
    for (size_t i = 0; i < emb_nstdlib; i++)
        if (strcmp(emb_stdlib[i].path, rel) == 0)
            return &emb_stdlib[i];
    return NULL;
}

static char *dir_of(ar_arena *a, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return ar_strdup(a, "");
    return ar_strndup(a, path, (size_t)(slash - path) + 1);
}

/* Parse a source text into a module (not yet in the tables).  NULL on OOM. */
static cm_module *parse_source(cm_loader *L, const char *name, const char *text, size_t len,
                               const char *dir, int embedded)
{
    diag_source *src = ar_alloc(L->arena, sizeof *src);
    cm_module *m = ar_alloc(L->arena, sizeof *m);
    if (!src || !m)
        return NULL;
    src->name = name;
    src->text = text;
    src->len = len;
    m->src = src;
    m->dir = dir;
    m->embedded = embedded;
    m->ast = ast_parse(src, L->arena, L->diags);
    m->name = m->ast ? m->ast->module : NULL;
    return m;
}

static cm_module *load_text(cm_loader *L, const char *display, const char *text, size_t len,
                            const char *dir, int embedded, int *dup);

static int resolve_imports(cm_loader *L, cm_module *m);

/* Register a parsed module; a second module of the same name is skipped (each
 * module loads once).  Returns the module that holds the name. */
static cm_module *register_module(cm_loader *L, cm_module *m, int *dup)
{
    *dup = 0;
    if (m->name) {
        cm_module *old = cm_find_module(L, m->name);
        if (old) {
            *dup = 1;
            return old;
        }
    }
    if (push_mod(&L->all, &L->nall, &L->capall, m))
        return NULL;
    return m;
}

static cm_module *load_text(cm_loader *L, const char *display, const char *text, size_t len,
                            const char *dir, int embedded, int *dup)
{
    cm_module *m = parse_source(L, display, text, len, dir, embedded);
    if (!m)
        return NULL;
    return register_module(L, m, dup);
}

/* Load a file from disk by path. */
static cm_module *load_path(cm_loader *L, const char *path, diag_loc at)
{
    size_t len;
    char *text = cm_read_file(L->arena, path, &len);
    if (!text) {
        int e = errno;
        if (!at.src) { /* named on the command line: the path is the location */
            diag_source *src = ar_alloc(L->arena, sizeof *src);
            if (src) {
                *src = (diag_source){ar_strdup(L->arena, path), "", 0};
                at = (diag_loc){src, 0, 0};
            }
            diag_add(L->diags, DIAG_ERROR, at, "cannot read: %s", strerror(e));
        } else
            diag_add(L->diags, DIAG_ERROR, at, "cannot read '%s': %s", path, strerror(e));
        return NULL;
    }
    int dup;
    return load_text(L, ar_strdup(L->arena, path), text, len, dir_of(L->arena, path), 0, &dup);
}

static cm_module *load_embedded(cm_loader *L, const emb_file *e)
{
    int dup;
    char *display = ar_printf(L->arena, "<stdlib>/%s", e->path);
    return load_text(L, display, e->text, e->len, dir_of(L->arena, e->path), 1, &dup);
}

/* Find `import a.b;`: -I dirs, then the built-in library. */
static cm_module *find_import(cm_loader *L, const ast_import *im, const cm_module *from)
{
    cm_module *m = cm_find_module(L, im->module);
    if (m)
        return m;
    char rel[1024];
    size_t k = 0;
    for (const char *p = im->module; *p && k + 8 < sizeof rel; p++)
        rel[k++] = *p == '.' ? '/' : *p;
    memcpy(rel + k, ".mtcr", 6);
    for (size_t i = 0; i < L->ninclude; i++) {
        char *path = ar_printf(L->arena, "%s/%s", L->include_dirs[i], rel);
        struct stat st;
        if (path && stat(path, &st) == 0 && S_ISREG(st.st_mode))
            return load_path(L, path, im->loc);
    }
    const emb_file *e = find_embedded(rel);
    if (e)
        return load_embedded(L, e);
    diag *d = diag_add(L->diags, DIAG_ERROR, im->loc, "module '%s' not found", im->module);
    /* a near miss among the built-in modules ("mtcr.anex" -> "mtcr.annex") */
    const char *names[64];
    size_t nn = 0;
    for (size_t i = 0; i < emb_nstdlib && nn < 64; i++) {
        const char *p = emb_stdlib[i].path;
        size_t len = strlen(p) - 5; /* without ".mtcr" */
        char *name = ar_alloc(L->arena, len + 1);
        if (!name)
            break;
        for (size_t j = 0; j < len; j++)
            name[j] = p[j] == '/' ? '.' : p[j];
        name[len] = '\0';
        names[nn++] = name;
    }
    const char *near = diag_suggest(im->module, names, nn);
    if (d && near)
        diag_hint(d, "did you mean '%s'?", near);
    else if (d && L->ninclude)
        diag_hint(d, "looked for %s in the -I directories (%zu) and in the built-in standard library", rel,
                  L->ninclude);
    else if (d)
        diag_hint(d, "looked for %s in the built-in standard library; add a search path with -I DIR", rel);
    (void)from;
    return NULL;
}

static cm_module *find_file_import(cm_loader *L, const ast_import *im, const cm_module *from)
{
    if (from->embedded) {
        char *rel = ar_printf(L->arena, "%s%s", from->dir, im->path);
        const emb_file *e = rel ? find_embedded(rel) : NULL;
        if (!e) {
            diag_add(L->diags, DIAG_ERROR, im->loc, "file '%s' not found in the standard library",
                     im->path);
            return NULL;
        }
        return load_embedded(L, e);
    }
    const char *path = im->path[0] == '/' ? im->path : ar_printf(L->arena, "%s%s", from->dir, im->path);
    return load_path(L, path, im->loc);
}

/* Depth-first: imports first, then the module itself, appended to L->mods. */
static int visit(cm_loader *L, cm_module *m)
{
    if (!m || m->state != 0)
        return 0; /* done, or in progress: an import cycle, which is allowed */
    m->state = 1;
    if (resolve_imports(L, m))
        return -1;
    for (size_t i = 0; i < m->nimports; i++)
        if (visit(L, m->imports[i]))
            return -1;
    m->state = 2;
    m->order = (int)L->nmods;
    return push_mod(&L->mods, &L->nmods, &L->capmods, m);
}

static int resolve_imports(cm_loader *L, cm_module *m)
{
    if (!m->ast || m->ast->nimports == 0)
        return 0;
    m->imports = ar_alloc(L->arena, m->ast->nimports * sizeof *m->imports);
    if (!m->imports)
        return -1;
    m->nimports = m->ast->nimports;
    for (size_t i = 0; i < m->ast->nimports; i++) {
        const ast_import *im = &m->ast->imports[i];
        cm_module *t = im->module ? find_import(L, im, m) : find_file_import(L, im, m);
        if (t && im->module && t->name && strcmp(t->name, im->module) != 0) {
            diag_add(L->diags, DIAG_ERROR, im->loc, "'%s' declares module '%s', not '%s'",
                     t->src->name, t->name, im->module);
            t = NULL;
        }
        m->imports[i] = t;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Collect the .mtcr files under dir, recursively. */
static int collect_dir(cm_loader *L, const char *dir, ar_vec *out)
{
    DIR *d = opendir(dir);
    if (!d) {
        diag_add(L->diags, DIAG_ERROR, (diag_loc){0}, "cannot read directory '%s': %s", dir,
                 strerror(errno));
        return 0;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *p = ar_printf(L->arena, "%s/%s", dir, e->d_name);
        struct stat st;
        if (!p || stat(p, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (collect_dir(L, p, out)) {
                closedir(d);
                return -1;
            }
        } else {
            size_t n = strlen(p);
            if (n > 5 && strcmp(p + n - 5, ".mtcr") == 0) {
                char **slot = ar_vec_push(out);
                if (!slot) {
                    closedir(d);
                    return -1;
                }
                *slot = p;
            }
        }
    }
    closedir(d);
    return 0;
}

int cm_load(cm_loader *L, const char *const *paths, size_t npaths)
{
    /* the country enum is visible everywhere: load it first */
    ast_import ci = {.module = "countries"};
    cm_module *countries = find_import(L, &ci, NULL);
    if (visit(L, countries))
        return -1;

    ar_vec roots;
    ar_vec_init(&roots, sizeof(cm_module *));
    int rc = 0;
    if (npaths == 0) {
        for (size_t i = 0; i < emb_nstdlib; i++) {
            const char *rel = emb_stdlib[i].path;
            char *mod = ar_strndup(L->arena, rel, strlen(rel) - 5);
            for (char *p = mod; p && *p; p++)
                if (*p == '/')
                    *p = '.';
            ast_import im = {.module = mod};
            cm_module *m = find_import(L, &im, NULL); /* -I copies override the built-in ones */
            cm_module **slot = ar_vec_push(&roots);
            if (!slot) {
                rc = -1;
                break;
            }
            *slot = m;
        }
    } else {
        for (size_t i = 0; i < npaths && rc == 0; i++) {
            struct stat st;
            if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode)) {
                ar_vec files;
                ar_vec_init(&files, sizeof(char *));
                rc = collect_dir(L, paths[i], &files);
                if (files.len)
                    qsort(files.data, files.len, sizeof(char *), cmp_str);
                for (size_t k = 0; k < files.len && rc == 0; k++) {
                    cm_module **slot = ar_vec_push(&roots);
                    if (!slot)
                        rc = -1;
                    else
                        *slot = load_path(L, ((char **)files.data)[k], (diag_loc){0});
                }
                ar_vec_free(&files);
            } else {
                cm_module **slot = ar_vec_push(&roots);
                if (!slot)
                    rc = -1;
                else
                    *slot = load_path(L, paths[i], (diag_loc){0});
            }
        }
    }
    for (size_t i = 0; i < roots.len && rc == 0; i++)
        rc = visit(L, ((cm_module **)roots.data)[i]);
    ar_vec_free(&roots);
    return rc;
}

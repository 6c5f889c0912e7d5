/* arena.c — bump allocator and the library's allocation hook. */
#include "arena.h"
#include "../include/mtcr.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ar_block {
    ar_block *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
};

/* ---- allocation hook ---------------------------------------------------- */

static mtcr_allocator g_alloc; /* zero: use malloc; set once by the host before use */

void mtcr_set_allocator(const mtcr_allocator *a)
{
    if (a)
        g_alloc = *a;
    else
        memset(&g_alloc, 0, sizeof g_alloc);
}

void *mtcr_xmalloc(size_t n)
{
    return g_alloc.realloc ? g_alloc.realloc(g_alloc.ud, NULL, n) : malloc(n);
}

void *mtcr_xcalloc(size_t n, size_t m)
{
    if (m && n > SIZE_MAX / m)
        return NULL;
    void *p = mtcr_xmalloc(n * m);
    if (p)
        memset(p, 0, n * m);
    return p;
}

void *mtcr_xrealloc(void *p, size_t n)
{
    return g_alloc.realloc ? g_alloc.realloc(g_alloc.ud, p, n) : realloc(p, n);
}

void mtcr_xfree(void *p)
{
    if (!p)
        return;
    if (g_alloc.free)
        g_alloc.free(g_alloc.ud, p);
    else
        free(p);
}

/* ---- arena --------------------------------------------------------------- */

void ar_init(ar_arena *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
}

void *ar_alloc(ar_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    ar_block *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t sz = n > a->block_size ? n : a->block_size;
        /* A fresh block; the old head stays in the chain behind it. */
        ar_block *nb = mtcr_xmalloc(sizeof *nb + sz);
        if (!nb)
            return NULL;
        nb->size = sz;
        nb->used = 0;
        nb->next = b;
        a->head = nb;
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *ar_strndup(ar_arena *a, const char *s, size_t n)
{
    char *p = ar_alloc(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *ar_strdup(ar_arena *a, const char *s)
{
    return ar_strndup(a, s, strlen(s));
}

char *ar_printf(ar_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = ar_alloc(a, (size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void ar_reset(ar_arena *a)
{
    ar_block *b = a->head;
    if (!b)
        return;
    /* keep the newest (largest-so-far) block, free the rest */
    ar_block *rest = b->next;
    while (rest) {
        ar_block *n = rest->next;
        mtcr_xfree(rest);
        rest = n;
    }
    b->next = NULL;
    b->used = 0;
}

void ar_free(ar_arena *a)
{
    ar_block *b = a->head;
    while (b) {
        ar_block *n = b->next;
        mtcr_xfree(b);
        b = n;
    }
    a->head = NULL;
}

void ar_vec_init(ar_vec *v, size_t elem)
{
    v->data = NULL;
    v->len = v->cap = 0;
    v->elem = elem;
}

void *ar_vec_push(ar_vec *v)
{
    if (v->len == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 8;
        void *nd = mtcr_xrealloc(v->data, nc * v->elem);
        if (!nd)
            return NULL;
        v->data = nd;
        v->cap = nc;
    }
    void *slot = (char *)v->data + v->len * v->elem;
    memset(slot, 0, v->elem);
    v->len++;
    return slot;
}

void ar_vec_free(ar_vec *v)
{
    mtcr_xfree(v->data);
    v->data = NULL;
    v->len = v->cap = 0;
}

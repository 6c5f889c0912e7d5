/* arena.h — bump allocation for everything whose lifetime is "one compile"
 * or "one batch": AST nodes, checked types, programs, decoded cell text.
 *
 * Contract: ar_alloc never returns NULL unless the allocator hook fails; callers
 * that can see bad input check the result and report out-of-memory as an
 * error value.  Memory is zeroed.  ar_free releases every block at once;
 * ar_reset keeps the first block for reuse (per-batch scratch).
 */
#ifndef MTCR_ARENA_H
#define MTCR_ARENA_H

#include <stddef.h>

typedef struct ar_block ar_block;

typedef struct ar_arena {
    ar_block *head;
    size_t block_size; /* default size of new blocks (grows for large requests) */
} ar_arena;

void ar_init(ar_arena *a, size_t block_size);
void *ar_alloc(ar_arena *a, size_t n);
char *ar_strndup(ar_arena *a, const char *s, size_t n);
char *ar_strdup(ar_arena *a, const char *s);
char *ar_printf(ar_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ar_reset(ar_arena *a);
void ar_free(ar_arena *a);

/* A growable array kept in an arena-independent heap buffer; used while building
 * lists whose final size is unknown (the AST copies them into the arena). */
typedef struct {
    void *data;
    size_t len, cap, elem;
} ar_vec;

void ar_vec_init(ar_vec *v, size_t elem);
void *ar_vec_push(ar_vec *v); /* returns a zeroed slot, NULL on out of memory */
void ar_vec_free(ar_vec *v);

/* The allocation hook of the library (SPEC 7).  All heap allocation of the library
 * goes through these, so a test can make the n-th allocation fail. */
void *mtcr_xmalloc(size_t n);
void *mtcr_xcalloc(size_t n, size_t m);
void *mtcr_xrealloc(void *p, size_t n);
void mtcr_xfree(void *p);

#endif

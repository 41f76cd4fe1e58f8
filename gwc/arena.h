/* A bump allocator for gwc: the owner of every string in a struct gw_conf, and
 * of the YAML node tree of one file.
 *
 * The model's strings (struct gw_str) are borrowed pointers that gw_conf_free()
 * never frees; they need one owner that dies together with the conf.  An arena
 * is that owner: thousands of small copies, no per-string bookkeeping, one free.
 *
 *   arena.head --> [chunk: next | used | cap | bytes...] --> [older chunk] --> NULL
 *
 * Every allocation is aligned for any type.  Nothing is ever freed singly.
 */
#ifndef GWC_ARENA_H
#define GWC_ARENA_H

#include <stddef.h>

struct gwc_arena_chunk;

struct gwc_arena {
	struct gwc_arena_chunk *head; /* newest chunk, or NULL when empty */
};

#define GWC_ARENA_INIT { NULL }

/* Return <n> bytes (uninitialised, aligned for any type) that live until
 * gwc_arena_free(<a>), or NULL when memory runs out.  <n> may be 0. */
void *gwc_arena_alloc(struct gwc_arena *a, size_t n);

/* Copy <n> bytes of <p> into <a> and add a NUL after them.  Returns the copy,
 * or NULL when memory runs out.  <p> may hold NUL bytes; it may be NULL when
 * <n> is 0. */
char *gwc_arena_strndup(struct gwc_arena *a, const char *p, size_t n);

/* Free every chunk of <a>; <a> is empty (and reusable) afterwards. */
void gwc_arena_free(struct gwc_arena *a);

#endif

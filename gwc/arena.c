/* The bump allocator of gwc (arena.h): conf strings and YAML trees are many
 * small objects with one lifetime, so they are carved from large chunks and
 * released all at once. */
#include "gwc/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE (64u * 1024)
#define ALIGN alignof(max_align_t)

struct gwc_arena_chunk {
	struct gwc_arena_chunk *next;
	size_t used, cap;
	alignas(max_align_t) unsigned char data[];
};

/* Allocate a chunk of at least <cap> usable bytes and make it the head of <a>.
 * Returns it, or NULL when memory runs out (<a> unchanged). */
static struct gwc_arena_chunk *chunk_new(struct gwc_arena *a, size_t cap)
{
	struct gwc_arena_chunk *c;

	if (cap > SIZE_MAX - sizeof *c)
		return NULL;
	c = malloc(sizeof *c + cap);
	if (!c)
		return NULL;
	c->used = 0;
	c->cap = cap;
	c->next = a->head;
	a->head = c;
	return c;
}

void *gwc_arena_alloc(struct gwc_arena *a, size_t n)
{
	struct gwc_arena_chunk *c = a->head;
	size_t need;

	if (n > SIZE_MAX - ALIGN)
		return NULL;
	need = (n + ALIGN - 1) & ~(ALIGN - 1);
	if (!c || c->cap - c->used < need) {
		/* A large object gets a chunk of its own, placed behind the head so
		 * the head's free space stays usable for small ones. */
		if (need > CHUNK_SIZE / 4 && c) {
			struct gwc_arena_chunk *big = chunk_new(a, need);

			if (!big)
				return NULL;
			a->head = c;
			big->next = c->next;
			c->next = big;
			big->used = need;
			return big->data;
		}
		c = chunk_new(a, need > CHUNK_SIZE ? need : CHUNK_SIZE);
		if (!c)
			return NULL;
	}
	void *p = c->data + c->used;
	c->used += need;
	return p;
}

char *gwc_arena_strndup(struct gwc_arena *a, const char *p, size_t n)
{
	char *s;

	if (n == SIZE_MAX)
		return NULL;
	s = gwc_arena_alloc(a, n + 1);
	if (!s)
		return NULL;
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

void gwc_arena_free(struct gwc_arena *a)
{
	struct gwc_arena_chunk *c = a->head;

	while (c) {
		struct gwc_arena_chunk *next = c->next;

		free(c);
		c = next;
	}
	a->head = NULL;
}

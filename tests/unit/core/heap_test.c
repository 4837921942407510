#include <stdlib.h>

#include "core/heap.h"
#include "test.h"

struct item {
	int64_t key;
	size_t pos;
};

static void test_order(void **state)
{
	struct heap h;
	struct item items[1000];
	int64_t prev = -1;
	(void)state;
	heap_init(&h, offsetof(struct item, key), offsetof(struct item, pos));
	srand(7);
	for (int i = 0; i < 1000; i++) {
		items[i].key = rand() % 5000;
		assert_int_equal(heap_push(&h, &items[i]), 0);
	}
	/* remove every third, then pop in order */
	for (int i = 0; i < 1000; i += 3)
		heap_remove(&h, &items[i]);
	assert_int_equal(heap_len(&h), 1000 - 334);
	while (heap_len(&h)) {
		struct item *it = heap_pop(&h);
		assert_true(it->key >= prev);
		prev = it->key;
	}
	assert_null(heap_pop(&h));
	heap_release(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_order)};
	return RUN(tests);
}

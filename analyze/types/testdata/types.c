/* Fixture for analyze/types tests; rebuild with ./gen.sh. */
struct list_head {
	struct list_head *next, *prev;
};

typedef unsigned int u32;

struct cpu_context_save {
	u32 r4, r5, sp, pc;
};

struct thread_info {
	unsigned long flags;
	int cpu;
	struct cpu_context_save cpu_context;
};

enum state { RUNNING = 0, SLEEPING = 1 };

struct task {
	struct thread_info thread_info;
	volatile long __state;
	void *stack;
	struct list_head tasks;
	union {
		int pid;
		unsigned char raw[4];
	};
	struct {
		unsigned int a : 3;
		unsigned int b : 5;
	} bits;
	char comm[16];
	enum state st;
	int (*fn)(struct task *, const char *);
	struct task *parent;
};

struct task init_task = { .comm = "swapper", .bits = { .a = 5, .b = 17 } };
int panic_cpu = -1;

int do_it(struct task *t, const char *why) { return t->pid + (why != 0); }

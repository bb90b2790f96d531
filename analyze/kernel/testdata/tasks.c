/* Fixture for analyze/kernel's walker fuzz tests: the task_struct members
 * the task walk reads, in a host build (64-bit pointers); rebuild with ./gen.sh. */
struct list_head {
	struct list_head *next, *prev;
};

struct signal_struct {
	int nr_threads;
	struct list_head thread_head;
};

struct mm_struct {
	unsigned long total_vm;
};

struct task_struct {
	unsigned int __state;
	void *stack;
	unsigned int flags;
	int cpu;
	struct list_head tasks;
	struct mm_struct *mm;
	int exit_state;
	int pid;
	int tgid;
	struct task_struct *real_parent;
	char comm[16];
	struct signal_struct *signal;
	struct list_head thread_node;
};

struct task_struct init_task;

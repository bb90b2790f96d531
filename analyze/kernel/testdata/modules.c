/* Fixture for analyze/kernel's module tests: the struct module members
 * Modules and ModuleSymbols read (6.1's core_layout and mod_kallsyms),
 * in a host build (64-bit pointers); rebuild with ./gen.sh. */
struct list_head {
	struct list_head *next, *prev;
};

typedef struct {
	unsigned int st_name;
	unsigned char st_info;
	unsigned char st_other;
	unsigned short st_shndx;
	unsigned long st_value;
	unsigned long st_size;
} Elf64_Sym;

struct mod_kallsyms {
	Elf64_Sym *symtab;
	unsigned int num_symtab;
	char *strtab;
	char *typetab;
};

struct module_layout {
	void *base;
	unsigned int size;
};

struct module {
	int state;
	struct list_head list;
	char name[56];
	struct module_layout core_layout;
	struct mod_kallsyms *kallsyms;
};

struct list_head modules;

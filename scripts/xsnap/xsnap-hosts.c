/*
 * Host functions (`function f() @ "xs_f";`) for modules xsnap parses at run time. A Moddable build resolves those
 * names when xsl links the app (it writes a table of builders per module); xsnap compiles modules from source and has
 * no such table, so a module using `@` finds no host functions. scripts/build-xsnap.mjs links xsnap with
 * `-Wl,--wrap=fxParserTree,--wrap=fxParserCode`: every source is parsed with mxCFlag (as xsc -c does), every script the parser produces passes through here, and one that declares host
 * functions gets a callback that builds them, each resolved by name among the binary's own symbols (dlsym; xsnap is
 * linked with -rdynamic), from the C files listed in that script (modules/**\/*.c). A name the binary lacks gives a
 * function that throws, naming it, when called.
 */
#include "xsAll.h"
#include <dlfcn.h>

extern txScript* __real_fxParserCode(void* parser);
txScript* __wrap_fxParserCode(void* parser);
extern void __real_fxParserTree(void* parser, void* theStream, txGetter theGetter, txUnsigned flags, txString* name);
void __wrap_fxParserTree(void* parser, void* theStream, txGetter theGetter, txUnsigned flags, txString* name);

/* xsc's -c: the lexer reads `@` (a host function's name) only with mxCFlag. */
void __wrap_fxParserTree(void* parser, void* theStream, txGetter theGetter, txUnsigned flags, txString* name)
{
	__real_fxParserTree(parser, theStream, theGetter, flags | mxCFlag, name);
}

/* The builders of the script parsed last: xsnap runs each module's script right after parsing it (fxResolveModule). */
static txHostFunctionBuilder* gxPendingBuilders = C_NULL;
static txInteger gxPendingCount = 0;

static void fxMissingHost(txMachine* the)
{
	mxUnknownError("host function not linked into this xsnap (scripts/build-xsnap.mjs lists modules/**/*.c)");
}

static void fxBuildPendingHosts(txMachine* the)
{
	txHostFunctionBuilder* builders = gxPendingBuilders;
	txInteger count = gxPendingCount;
	gxPendingBuilders = C_NULL;
	gxPendingCount = 0;
	if (!builders)
		mxUnknownError("xsnap-hosts: no host functions pending");
	/* The builders stay allocated: a host function may keep a pointer to its builder. */
	fxBuildHosts(the, count, builders);
	mxPullSlot(mxResult);
}

txScript* __wrap_fxParserCode(void* parser)
{
	txScript* script = __real_fxParserCode(parser);
	if (script && script->hostsBuffer && !script->callback) {
		txByte* p = script->hostsBuffer;
		txID c, i, id;
		txHostFunctionBuilder* builders;
		mxDecodeID(p, c);
		builders = c_malloc(c * sizeof(txHostFunctionBuilder));
		if (!builders)
			return script;
		for (i = 0; i < c; i++) {
			txS1 length = *p++;
			void* symbol;
			mxDecodeID(p, id);
			symbol = dlsym(RTLD_DEFAULT, (char*)p);
			builders[i].callback = symbol ? (txCallback)symbol : fxMissingHost;
			builders[i].length = length < 0 ? 0 : length;
			/* The id is the parser's own symbol index, remapped only in the code: leave the functions unnamed. */
			builders[i].id = XS_NO_ID;
			p += c_strlen((char*)p) + 1;
		}
		gxPendingBuilders = builders;
		gxPendingCount = c;
		script->callback = fxBuildPendingHosts;
	}
	return script;
}

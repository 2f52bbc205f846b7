"""FReD, the Fast Reversible Debugger: pdb on Stasis checkpoints (doc/fred.md).

python3 -m stasis.fred prog.py ARGS, or stasis fred python3 prog.py ARGS.
"""

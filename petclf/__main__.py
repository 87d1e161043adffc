from petclf.cli import main

main()

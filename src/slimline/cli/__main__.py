from slimline.cli import main

main()

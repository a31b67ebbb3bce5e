from dailypapers.cli import main

if __name__ == "__main__":  # bulk imports spawn a worker that imports this module
    main()
